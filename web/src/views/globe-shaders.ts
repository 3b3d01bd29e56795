// The globe's GLSL (three.js ShaderMaterial): points (front and far side, ring for the hovered point), the
// ball under them and its halo. Uniforms are set in globe.ts.

export const POINT_VERTEX = /* glsl */ `
  attribute vec3 aColor;
  attribute float aSize;
  uniform float uSize;
  uniform float uHorizon;
  uniform float uSide;
  varying vec3 vColor;
  varying float vPx;
  void main() {
    vec4 world = modelMatrix * vec4(position, 1.0);
    // Seen from the camera at (0, 0, d), a point of the unit sphere is in front iff its z > 1 / d.
    if ((world.z - uHorizon) * uSide <= 0.0) {
      gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
      gl_PointSize = 0.0;
      return;
    }
    vColor = aColor;
    gl_Position = projectionMatrix * viewMatrix * world;
    if (aSize > 1.0) gl_Position.z -= 0.002 * gl_Position.w;  // highlighted points on top
    gl_PointSize = uSize * aSize * (uSide > 0.0 ? 1.0 : 0.7);
    vPx = gl_PointSize;
  }
`;

export const POINT_FRAGMENT = /* glsl */ `
  uniform vec3 uFade;
  uniform float uFadeAmount;
  varying vec3 vColor;
  varying float vPx;
  void main() {
    vec2 c = gl_PointCoord * 2.0 - 1.0;
    float r = length(c);
    if (r > 1.0) discard;
    // A one-pixel soft edge (distance to the rim in pixels, +0.5); the inside is exactly the point's colour,
    // and points of a pixel or two stay opaque.
    float edge = clamp((1.0 - r) * vPx * 0.5 + 0.5, 0.0, 1.0);
    gl_FragColor = vec4(mix(vColor, uFade, uFadeAmount), edge);
  }
`;

export const RING_FRAGMENT = /* glsl */ `
  uniform vec3 uFade;
  uniform float uFadeAmount;
  varying vec3 vColor;
  varying float vPx;
  void main() {
    vec2 c = gl_PointCoord * 2.0 - 1.0;
    float r = length(c);
    float w = 2.0 / vPx;
    float a = smoothstep(1.0, 1.0 - w, r) * smoothstep(1.0 - 3.0 * w, 1.0 - 2.0 * w, r);
    if (a <= 0.0) discard;
    gl_FragColor = vec4(vColor, a);
  }
`;

export const BALL_VERTEX = /* glsl */ `
  varying vec3 vNormal;
  varying vec3 vView;
  void main() {
    vec4 mv = modelViewMatrix * vec4(position, 1.0);
    vNormal = normalize(normalMatrix * normal);
    vView = normalize(-mv.xyz);
    gl_Position = projectionMatrix * mv;
  }
`;

export const BALL_FRAGMENT = /* glsl */ `
  uniform vec3 uBase;
  uniform vec3 uRim;
  varying vec3 vNormal;
  varying vec3 vView;
  void main() {
    float facing = max(dot(normalize(vNormal), normalize(vView)), 0.0);
    float light = 0.88 + 0.22 * max(dot(normalize(vNormal), normalize(vec3(-0.45, 0.55, 0.7))), 0.0);
    vec3 c = mix(uBase * light, uRim, pow(1.0 - facing, 2.2));
    gl_FragColor = vec4(c, 1.0);
  }
`;

export const HALO_FRAGMENT = /* glsl */ `
  uniform vec3 uRim;
  varying vec3 vNormal;
  varying vec3 vView;
  void main() {
    float facing = abs(dot(normalize(vNormal), normalize(vView)));
    float glow = pow(smoothstep(0.0, 0.62, facing), 3.0) * smoothstep(0.75, 0.45, facing);
    gl_FragColor = vec4(uRim * glow * 0.55, 1.0);
  }
`;
