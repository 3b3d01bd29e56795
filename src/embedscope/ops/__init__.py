"""Operations over a workspace that write files or read several spaces: the report, exports, the demo, comparison figures."""
