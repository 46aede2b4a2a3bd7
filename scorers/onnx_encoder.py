"""all-MiniLM-L6-v2 through onnxruntime with int8 weights (dynamic quantisation, per channel).

On 2 CPU cores it embeds ~1.8x faster than torch, with a cosine agreement of 0.995 or better
with torch's embeddings (per-tensor int8 was too inaccurate). The model is exported and
quantised once, then cached on disk; a GPU machine keeps torch (see Embedder).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger("evalstream.scorers")

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def cache_dir() -> Path:
    return Path(os.environ.get("EVALSTREAM_CACHE", Path.home() / ".cache" / "evalstream")) / "onnx"


def quantized_model(model_dir: Path) -> Path:
    """The int8 ONNX file for `model_dir`, exported and quantised on first use."""
    weights = next((model_dir / name for name in ("model.safetensors", "pytorch_model.bin") if (model_dir / name).exists()), None)
    if weights is None:
        raise FileNotFoundError(f"no model weights in {model_dir}")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    target = cache_dir() / f"{model_dir.name}-{digest}" / "model-int8.onnx"
    if not target.exists():
        log.info("exporting %s to ONNX int8 (once) into %s", model_dir, target.parent)
        _export_int8(model_dir, target)
    return target


def _export_int8(model_dir: Path, target: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(model_dir, local_files_only=True).eval()
    sample = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)(["a sample", "a longer sample text"], return_tensors="pt", padding=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / "model-int8.onnx"
        dynamic = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
        torch.onnx.export(
            LastHiddenState(model), tuple(sample[k] for k in INPUTS), str(fp32), input_names=list(INPUTS),
            output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=17, dynamo=False,
        )
        quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8)
        os.replace(int8, target)  # atomic: a concurrent process sees no half-written file


class OnnxInt8Encoder:
    """Mean-pooled, unit-length embeddings, as sentence-transformers computes for this model."""

    def __init__(self, model_dir: Path, *, max_tokens: int = 256, threads: int | None = None) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        self.session = ort.InferenceSession(str(quantized_model(model_dir)), options, providers=["CPUExecutionProvider"])
        self.max_tokens = max_tokens

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        out = np.zeros((len(texts), self.session.get_outputs()[0].shape[-1] or 384), np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            tokens = self.tokenizer([texts[i] for i in chunk], return_tensors="np", padding=True, truncation=True, max_length=self.max_tokens)
            hidden = self.session.run(None, {k: tokens[k].astype(np.int64) for k in INPUTS})[0]
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[chunk] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out
