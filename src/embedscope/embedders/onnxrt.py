"""A local sentence-transformers model on ONNX Runtime, exported on this machine and cached.

The model's safetensors weights are exported once with ``torch.onnx`` (offline: nothing is downloaded; eager
attention, so that the graph has the pattern ONNX Runtime fuses), BERT models are fused by ONNX Runtime's
transformer optimizer (``onnxruntime.transformers.optimizer``, part of the wheel: one Attention node per layer with
the Q, K and V projections in one weight, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization), and for
``onnx-int8`` quantised with ONNX Runtime's dynamic quantisation (int8 weights per output channel, activations
quantised per tensor at run time; the fused Attention becomes QAttention). The file is cached in the user cache dir
(``$XDG_CACHE_HOME/embedscope/onnx``, else ``~/.cache/embedscope/onnx``) under a name keyed by the model directory's
fingerprint, the backend, the recipe and the versions of torch, transformers, onnx and onnxruntime. It is written
atomically (temporary file, then rename) with a sidecar holding its SHA-256; a file whose sidecar is missing or does
not match, or that ONNX Runtime cannot load, is rebuilt.

Inference reproduces the sentence-transformers pipeline of a mean-pooled model: the ``tokenizers`` tokenizer from
``tokenizer.json`` truncating at ``max_seq_length`` tokens, the transformer, mean pooling over the attention mask
(``sum / max(count, 1e-9)``) and, when the model has a ``Normalize`` module, L2 normalisation (``x / max(|x|,
1e-12)``). Texts of one call are sorted by token count and cut into batches of similar length.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MissingDependencyError

#: Backends of local models: sentence-transformers on torch, ONNX Runtime float32, ONNX Runtime int8 weights.
BACKENDS = ("torch", "onnx", "onnx-int8")
#: Version of the export and quantisation recipe below; part of the cache file name and of the embedder's key.
#: 1: unfused graph, 5 MatMuls in float32, batches of up to 16,384 token positions. 2: fused graph (int8 QAttention),
#: 8 nodes in float32, batches of up to 1,024 token positions.
RECIPE = 2
#: A batch holds at most this many token positions (texts x longest text). Small batches run faster on the CPU
#: (they stay in cache): 1,000 KJV verses on 2 cores took 4.6-5.0 s at 512 or 1,024 positions, 5.8 s at 16,384
#: (128 verses of ~40 tokens); docs/BENCHMARKS.md.
MAX_BATCH_TOKENS = 1024
#: Nodes left in float32 by the int8 recipe, by substring of their name (the fused graph's MatMul names and the
#: optimizer's ``Attention_<layer>``). Each node was quantised alone and the cosine to the float32 vectors measured
#: (333 KJV verses and 200 longer texts): the three FFN ``output.dense`` of layers 0-2 and the ``intermediate.dense``
#: of layers 1 and 4 cost the most on average, the ``attention.output.dense`` of layers 0 and 5 the most on the worst
#: text (cheap to keep: 384 x 384), and the QKV projection of layer 4 the most of the Attention nodes. With them in
#: float32 the min / mean cosine to the torch vectors is 0.992 / 0.997 on 1,000 verses and 0.994 / 0.997 on 1,000
#: longer texts (0.983 / 0.992 with everything quantised).
INT8_KEEP_FLOAT: tuple[str, ...] = ("layer.0/output/dense/", "layer.1/output/dense/", "layer.2/output/dense/",
                                    "layer.1/intermediate/dense/", "layer.4/intermediate/dense/",
                                    "layer.0/attention/output/dense/", "layer.5/attention/output/dense/",
                                    "Attention_4")
#: Model types (``config.json``) whose export is fused by ONNX Runtime's BERT optimizer.
FUSED_MODEL_TYPES = ("bert",)
_MODULE_POOLING = "sentence_transformers.models.Pooling"
_MODULE_TRANSFORMER = "sentence_transformers.models.Transformer"
_MODULE_NORMALIZE = "sentence_transformers.models.Normalize"


def available() -> bool:
    """Whether ``onnxruntime`` (to run) and ``onnx`` (to export and quantise) are installed."""
    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


def cache_dir() -> Path:
    """Where exported models are kept: ``$XDG_CACHE_HOME/embedscope/onnx`` (default ``~/.cache``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "embedscope" / "onnx"


def pipeline(path: Path) -> tuple[bool, int]:
    """Check that ``path`` is a sentence-transformers model this module reproduces exactly.

    Returns
    -------
    normalize : bool
        Whether the model ends with a ``Normalize`` module.
    max_seq_length : int
        Tokens the model sees (the tokenizer truncates there).

    Raises
    ------
    InputError
        The model is not ``Transformer -> Pooling(mean) [-> Normalize]``.
    """
    try:
        modules = json.loads((path / "modules.json").read_text())
        types = [m["type"].replace("sentence_transformers.base.modules", "sentence_transformers.models") for m in modules]
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        pool_cfg = json.loads((path / pooling["path"] / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration):
        raise InputError(f"{path} is not a mean-pooled sentence-transformers model (modules.json, "
                         "Pooling config); embed it with --backend torch") from None
    modes = {k for k, v in pool_cfg.items() if k.startswith("pooling_mode") and v}
    if types[:2] != [_MODULE_TRANSFORMER, _MODULE_POOLING] or types[2:] not in ([], [_MODULE_NORMALIZE]) \
            or modes != {"pooling_mode_mean_tokens"}:
        raise InputError(f"{path}: the ONNX backends run Transformer -> mean Pooling [-> Normalize] models only; "
                         f"this one has {types} with {sorted(modes)}; embed it with --backend torch")
    max_len = 512
    try:
        max_len = int(json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        pass
    try:
        max_len = min(max_len, int(json.loads((path / "config.json").read_text())["max_position_embeddings"]))
    except (OSError, ValueError, KeyError):
        pass
    return types[2:] == [_MODULE_NORMALIZE], max_len


def _versions() -> str:
    out = []
    for pkg in ("torch", "transformers", "onnx", "onnxruntime"):
        try:
            out.append(f"{pkg}{importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{pkg}-none")
    return "-".join(out).replace("+", "_")


def model_file(path: Path, fingerprint: str, backend: str) -> Path:
    """The cached ONNX file of the model at ``path`` for ``backend`` (``onnx`` or ``onnx-int8``), built if needed.

    Parameters
    ----------
    path
        The sentence-transformers model directory.
    fingerprint
        Its identity (``local.dir_fingerprint``); a changed model gets a new file.
    backend
        ``onnx`` (float32) or ``onnx-int8``.
    """
    d = cache_dir()
    target = d / f"{fingerprint}-{backend}-r{RECIPE}-{_versions()}.onnx"
    if _valid(target):
        return target
    d.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=d, prefix=".build-") as tmp:
        fp32 = Path(tmp) / "model.onnx"
        _export(path, fp32)
        fused = Path(tmp) / "model-fused.onnx"
        if _fuse(path, fp32, fused):
            fp32 = fused
        built = fp32
        if backend == "onnx-int8":
            built = Path(tmp) / "model-int8.onnx"
            _quantize(fp32, built)
        _check_loads(built)
        digest = _sha256(built)
        os.replace(built, target)  # atomic: a reader sees the old state or the whole file
        side = Path(tmp) / "sidecar.json"
        side.write_text(json.dumps({"sha256": digest, "bytes": target.stat().st_size, "recipe": RECIPE,
                                    "backend": backend, "model": str(path), "versions": _versions()}))
        os.replace(side, _sidecar(target))  # written last: the model file is valid only once this exists
    return target


def _sidecar(target: Path) -> Path:
    return target.with_suffix(".json")


def _sha256(f: Path) -> str:
    h = hashlib.sha256()
    with f.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _valid(target: Path) -> bool:
    """The file exists, its sidecar names its exact size and SHA-256 (a partial or damaged file fails)."""
    try:
        meta = json.loads(_sidecar(target).read_text())
        return target.stat().st_size == int(meta["bytes"]) and _sha256(target) == meta["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _check_loads(f: Path) -> None:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(f), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.array([[101, 7592, 102]], np.int64) if i.name == "input_ids" else
             (np.ones if i.name == "attention_mask" else np.zeros)((1, 3), np.int64) for i in sess.get_inputs()}
    out = sess.run(None, feeds)[0]
    if out.ndim != 3 or not np.isfinite(out).all():
        raise RuntimeError(f"the exported model {f} gives {out.shape} / non-finite output")


def _export(path: Path, out: Path) -> None:
    """Export the transformer of the model at ``path`` to ONNX (float32, dynamic batch and sequence axes)."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        raise MissingDependencyError("exporting the local model to ONNX", "local", "torch") from None
    if importlib.util.find_spec("onnx") is None:
        raise MissingDependencyError("exporting the local model to ONNX", "local", "onnx")
    # eager attention: the SDPA export (masking through IsNaN / Where) is a pattern the optimizer does not fuse
    model = AutoModel.from_pretrained(str(path), local_files_only=True, attn_implementation="eager",
                                      trust_remote_code=False).eval()
    import inspect

    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: Any) -> Any:
            return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

    example = tuple(torch.ones(2, 8, dtype=torch.long) if n != "token_type_ids" else torch.zeros(2, 8, dtype=torch.long)
                    for n in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Hidden(model), example, str(out), input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def _fuse(path: Path, src: Path, dst: Path) -> bool:
    """Fuse the export of a BERT model with ONNX Runtime's transformer optimizer into ``dst``.

    Returns whether ``dst`` was written: not for other model types, nor when the fused graph's output differs from
    the export's on a padded batch (then the unfused export is used as it is).
    """
    import logging

    try:
        cfg = json.loads((path / "config.json").read_text())
        if cfg.get("model_type") not in FUSED_MODEL_TYPES:
            return False
        heads, hidden = int(cfg["num_attention_heads"]), int(cfg["hidden_size"])
        from onnxruntime.transformers.optimizer import optimize_model
    except (OSError, ValueError, KeyError, TypeError, ImportError):
        return False
    quiet = [logging.getLogger(n) for n in ("", "onnxruntime.transformers", "fusion_base", "onnx_model",
                                               "onnx_model_bert", "optimizer")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.ERROR)  # the optimizer logs each fusion
    try:
        opt = optimize_model(str(src), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0,
                             use_gpu=False)
        opt.save_model_to_file(str(dst))
    finally:
        for lg, lv in zip(quiet, levels, strict=True):
            lg.setLevel(lv)
    ids = np.array([[101, 7592, 2088, 2003, 102], [101, 7592, 102, 0, 0]], np.int64)
    mask = (ids != 0).astype(np.int64)
    a, b = (_run_once(f, ids, mask) for f in (src, dst))
    if a.shape != b.shape or not np.allclose(a * mask[..., None], b * mask[..., None], atol=1e-3):
        dst.unlink(missing_ok=True)
        return False
    return True


def _run_once(f: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(f), so, providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return np.asarray(sess.run(None, {i.name: feeds[i.name] for i in sess.get_inputs()})[0])


def _quantize(src: Path, dst: Path) -> None:
    """int8 weights, per output channel, of the MatMuls with a constant weight and of the fused Attention's QKV
    projection (activations: dynamic, per tensor), except the nodes of :data:`INT8_KEEP_FLOAT`."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    g = onnx.load(str(src), load_external_data=False).graph
    keep = [n.name for n in g.node if n.op_type in ("MatMul", "Attention") and any(s in n.name for s in INT8_KEEP_FLOAT)]
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # the quantiser logs advice on the root logger
    try:
        # DefaultTensorType: shape inference gives no type to the outputs of contrib ops (fused nodes)
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=keep,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logging.getLogger().setLevel(level)


def cpu_threads() -> int:
    """CPUs this process may run on (the affinity mask, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class OnnxModel:
    """A mean-pooled sentence-transformers model on ONNX Runtime (CPU).

    Parameters
    ----------
    path
        The sentence-transformers model directory (``tokenizer.json``, ``modules.json``, weights).
    fingerprint
        Identity of that directory (names the cached ONNX file).
    backend
        ``onnx`` (float32) or ``onnx-int8``.
    """

    def __init__(self, path: Path, fingerprint: str, backend: str) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError:
            raise MissingDependencyError(f"the {backend} backend", "local", "onnxruntime") from None
        if backend not in ("onnx", "onnx-int8"):
            raise InputError(f"unknown ONNX backend {backend!r}; use onnx or onnx-int8")
        self.normalize, self.max_seq_length = pipeline(path)
        self.file = model_file(path, fingerprint, backend)
        self._ort = ort
        self.session = self._session(cpu_threads())
        self._query_session: Any = None
        self._lock = threading.Lock()
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.dim = int(json.loads((path / "config.json").read_text())["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        self._counter = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        self._last_counts: tuple[tuple[str, ...], list[int]] | None = None

    def _session(self, threads: int) -> Any:
        so = self._ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = self._ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        return self._ort.InferenceSession(str(self.file), so, providers=["CPUExecutionProvider"])

    @property
    def query_session(self) -> Any:
        """A second session on one thread, for a few short queries (no intra-op synchronisation)."""
        with self._lock:
            if self._query_session is None:
                self._query_session = self._session(1)
            return self._query_session

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens per text, special tokens included, without truncation (those of the last :meth:`encode` call
        when ``texts`` are the same string objects: ``embed_texts`` counts each batch it has just embedded)."""
        last = self._last_counts
        if last is not None and len(last[0]) == len(texts) and all(a is b for a, b in zip(last[0], texts, strict=True)):
            return list(last[1])
        return [len(e.ids) for e in self._counter.encode_batch(texts)]

    def _tokenize(self, texts: list[str]) -> list[Any]:
        """Encodings truncated at ``max_seq_length``, from one untruncated pass (whose token counts are kept for
        :meth:`token_counts`); only the texts over the window are encoded again, with truncation."""
        enc = self._counter.encode_batch(texts)
        self._last_counts = (tuple(texts), [len(e.ids) for e in enc])
        over = [i for i, e in enumerate(enc) if len(e.ids) > self.max_seq_length]
        if over:
            for i, e in zip(over, self.tokenizer.encode_batch([texts[i] for i in over]), strict=True):
                enc[i] = e
        return enc

    def encode(self, texts: list[str], batch_size: int = 128, *, session: Any = None) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        texts
            ``n`` strings (each cut at ``max_seq_length`` tokens).
        batch_size
            At most this many texts per model call (fewer for long texts: :data:`MAX_BATCH_TOKENS`).
        session
            The ONNX Runtime session to use (default: the main one).

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n, dim)``, in input order; unit norm if the model normalises.
        """
        sess = session or self.session
        out = np.empty((len(texts), self.dim), np.float32)
        if not texts:
            return out
        enc = self._tokenize(list(texts))
        lens = np.fromiter((len(e.ids) for e in enc), np.int64, len(enc))
        # longest first (the first batch shows the peak memory), ties by text: the batches, and so the vectors (int8
        # activations are quantised per batch), are a function of the set of texts, not of their order
        order = np.array(sorted(range(len(texts)), key=lambda i: (-int(lens[i]), texts[i])), np.int64)
        start = 0
        while start < len(order):
            longest = int(lens[order[start]])
            size = max(1, min(batch_size, MAX_BATCH_TOKENS // max(1, longest)))
            # the rest cut into equal batches rather than full ones and a small last one (the later texts are no
            # longer, so each batch stays within MAX_BATCH_TOKENS)
            left = len(order) - start
            size = -(-left // -(-left // size))
            idx = order[start:start + size]
            start += size
            ids = np.zeros((len(idx), longest), np.int64)
            mask = np.zeros((len(idx), longest), np.int64)
            for row, i in enumerate(idx):
                ids[row, :lens[i]] = enc[i].ids
                mask[row, :lens[i]] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = sess.run(None, feeds)[0]  # (b, tokens, dim)
            m = mask.astype(np.float32)
            pooled = np.einsum("btd,bt->bd", hidden, m) / np.maximum(m.sum(axis=1, keepdims=True), 1e-9)
            if self.normalize:
                pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[idx] = pooled
        return out
