"""Fine-tuning a sentence-transformers model on the user's data (texts and torch only; numeric-pure).

- :mod:`.split`: the seeded train / held-out split of the items, stratified by label;
- :mod:`.examples`: training examples from labels, from pairs of texts, from qrels;
- :mod:`.finetune`: our own training loop around a sentence-transformers model and its loss modules, with
  checkpoints kept as data (safetensors + JSON, never a pickle) so a killed run resumes.
"""
