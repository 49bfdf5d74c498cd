#!/usr/bin/python3
"""Independent numerical reference for `ntk-select forward`.

Run with Debian's /usr/bin/python3 (python3-torch, python3-numpy, python3-h5py).
It shares no code with the C++ side and does not use transformers or peft: the
Hugging Face LlamaForCausalLM / Qwen3ForCausalLM forward and PEFT LoRA are
written out below from their documented semantics.

    hf_reference.py --model DIR [--adapter ADIR] --input IDS.jsonl
                    [--dtype fp32|bf16|fp16] --check OUT.h5 [--logits]
    hf_reference.py --self-test

--check computes every sample of IDS.jsonl (one {"ids": [...]} per line) on its
own, unpadded, and compares with the datasets `ntk-select forward` wrote:
embeddings, last_hidden (real rows compared, padded rows must be exactly 0),
lengths, and logits when present (required with --logits). Exit status 0 when
everything agrees, 1 with one line per problem otherwise, 2 for usage errors.

How the compute dtype is modelled. HF runs every op in the model's dtype; a
GPU GEMM in bf16/fp16 accumulates in fp32 and rounds once. Torch 1.13 has no
fp16 matmul on the CPU, so this reference keeps every tensor in float32
holding values that are exactly representable in the compute dtype, and rounds
(`.to(dtype).float()`, round-to-nearest-even) after every op that HF performs
in that dtype. For fp32 the rounding is the identity. `--self-test` checks that
this emulation agrees with torch's native bf16 ops.
"""

import argparse
import json
import math
import os
import re
import struct
import sys
import tempfile

try:
    import numpy as np
    import torch
    import h5py
except ImportError as e:  # CI installs python3-torch/-numpy/-h5py; never skip silently
    print(f"hf_reference.py: cannot import {e.name}: install python3-torch, python3-numpy and "
          f"python3-h5py and run with /usr/bin/python3 ({sys.executable} was used)", file=sys.stderr)
    sys.exit(1)

F32 = torch.float32
DTYPES = {"fp32": torch.float32, "float32": torch.float32,
          "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
          "fp16": torch.float16, "float16": torch.float16}


class RefError(Exception):
    """A problem with the inputs (checkpoint, adapter, ids) the reference cannot run on."""


# ---------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length N, N bytes of JSON, then the data; each
# tensor's data_offsets are [begin, end) relative to byte 8 + N.

_ST_NUMPY = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8",
             "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    """All tensors of one file, in their stored dtype (BF16 -> torch.bfloat16)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise RefError(f"{path}: shorter than the 8-byte safetensors header length")
    (n,) = struct.unpack_from("<Q", blob, 0)
    if 8 + n > len(blob):
        raise RefError(f"{path}: header length {n} runs past the end of the file ({len(blob)} bytes)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise RefError(f"{path}: the header is not JSON: {e}")
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in _ST_NUMPY:
            raise RefError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        np_dtype = np.dtype(_ST_NUMPY[dtype])
        numel = int(np.prod(shape)) if shape else 1
        if end - begin != numel * np_dtype.itemsize or base + end > len(blob) or begin > end:
            raise RefError(f"{path}: tensor {name} {dtype}{shape} has data_offsets [{begin}, {end}) "
                           f"that do not fit its size or the file")
        arr = np.frombuffer(blob, dtype=np_dtype, count=numel, offset=base + begin).reshape(shape)
        if dtype == "BF16":
            # a bf16 value is the top half of a float32: widen the bits, reinterpret, then narrow
            # (exact, since the low 16 bits are zero)
            bits = arr.astype(np.uint32) << np.uint32(16)
            t = torch.from_numpy(bits.view(np.float32).copy()).to(torch.bfloat16)
        else:
            t = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("=")).copy())
        out[name] = t
    return out


def write_safetensors(path, tensors, metadata=None):
    """Writer for the self-test (the C++ side has its own)."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.bfloat16:
            raw = (t.float().numpy().view(np.uint32) >> np.uint32(16)).astype("<u2").tobytes()
            code = "BF16"
        else:
            code = {torch.float32: "F32", torch.float16: "F16", torch.float64: "F64",
                    torch.int64: "I64"}[t.dtype]
            raw = t.numpy().astype(np.dtype(_ST_NUMPY[code])).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def load_checkpoint_tensors(model_dir):
    """model.safetensors, or the shards named by model.safetensors.index.json."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            for name, t in read_safetensors(os.path.join(model_dir, shard)).items():
                if name in tensors:
                    raise RefError(f"{model_dir}: tensor {name} is in more than one shard")
                if weight_map.get(name) != shard:
                    raise RefError(f"{model_dir}: tensor {name} is in {shard} but the index says "
                                   f"{weight_map.get(name)}")
                tensors[name] = t
        missing = sorted(set(weight_map) - set(tensors))
        if missing:
            raise RefError(f"{model_dir}: the index names tensors no shard holds: {missing[:5]}")
        return tensors
    if os.path.exists(single):
        return read_safetensors(single)
    raise RefError(f"{model_dir}: neither model.safetensors nor model.safetensors.index.json")


# ---------------------------------------------------------------------------------------------
# config.json with the defaults of transformers' LlamaConfig / Qwen3Config


class Config:
    pass


def parse_config(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        raw = json.load(f)
    g = lambda key, default=None: default if raw.get(key) is None else raw[key]  # null = absent
    c = Config()
    archs = g("architectures", [])
    model_type = g("model_type", "")
    if not model_type and archs:
        model_type = {"LlamaForCausalLM": "llama", "Qwen3ForCausalLM": "qwen3"}.get(archs[0], "")
    if model_type not in ("llama", "qwen3"):
        raise RefError(f"{model_dir}/config.json: model_type {model_type!r} / architectures "
                       f"{archs} is not llama or qwen3")
    c.arch = model_type
    c.vocab = int(raw["vocab_size"])
    c.hidden = int(raw["hidden_size"])
    c.intermediate = int(raw["intermediate_size"])
    c.layers = int(raw["num_hidden_layers"])
    c.heads = int(raw["num_attention_heads"])
    c.kv_heads = int(g("num_key_value_heads", c.heads))
    # head_dim: from the config when given; Qwen3Config defaults it to 128, LlamaConfig to
    # hidden_size / num_attention_heads
    c.head_dim = int(g("head_dim", 128 if c.arch == "qwen3" else c.hidden // c.heads))
    c.eps = float(g("rms_norm_eps", 1e-6))
    c.tied = bool(g("tie_word_embeddings", False))
    c.attention_bias = bool(g("attention_bias", False))
    c.mlp_bias = bool(g("mlp_bias", False))
    act = g("hidden_act", "silu")
    if act != "silu":
        raise RefError(f"hidden_act {act!r} is not silu")
    if c.arch == "qwen3" and g("use_sliding_window", False):
        raise RefError("use_sliding_window is not modelled")
    c.rope_theta = float(g("rope_theta", 10000.0))
    rope = g("rope_parameters") or g("rope_scaling") or {}
    if "rope_parameters" in raw and raw["rope_parameters"] is not None:
        c.rope_theta = float(rope.get("rope_theta", c.rope_theta))
    # transformers reads rope_type first, then the legacy "type"
    c.rope_type = rope.get("rope_type", rope.get("type", "default"))
    c.rope = rope
    if c.rope_type not in ("default", "linear", "llama3"):
        raise RefError(f"rope type {c.rope_type!r} is not modelled")
    c.torch_dtype = g("torch_dtype", g("dtype", None))
    if c.heads % c.kv_heads:
        raise RefError(f"num_key_value_heads {c.kv_heads} does not divide heads {c.heads}")
    return c


def rope_inv_freq(c):
    """inv_freq in float32 as transformers' rope init functions compute it."""
    d = c.head_dim
    # 1 / base ** (arange(0, d, 2) / d), the exponent and the power in float32
    inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64).to(F32) / d))
    if c.rope_type == "linear":
        inv_freq = inv_freq / float(c.rope["factor"])
    elif c.rope_type == "llama3":
        factor = float(c.rope["factor"])
        low = float(c.rope["low_freq_factor"])
        high = float(c.rope["high_freq_factor"])
        old = float(c.rope["original_max_position_embeddings"])
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv_freq
        # long wavelengths (low frequencies) are divided by factor, short ones kept, the middle
        # band interpolates between the two
        scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        inv_freq = torch.where(medium, smoothed, scaled)
    return inv_freq.to(F32)


# ---------------------------------------------------------------------------------------------
# arithmetic in the compute dtype


class Emulated:
    """float32 tensors holding compute-dtype values; `r` rounds after each op (see module doc)."""

    def __init__(self, dtype):
        self.dtype = dtype

    def r(self, x):
        return x if self.dtype == F32 else x.to(self.dtype).to(F32)

    def to_compute(self, x):  # a tensor of any dtype -> compute-dtype values
        return self.r(x.to(F32))

    def f32(self, x):  # upcast to float32 (HF's .float() / .to(torch.float32))
        return x

    def out(self, x):
        return x


class Native:
    """Tensors really in the compute dtype, torch's own kernels (bf16/fp32 on the CPU)."""

    def __init__(self, dtype):
        self.dtype = dtype

    def r(self, x):
        return x.to(self.dtype)

    def to_compute(self, x):
        return x.to(self.dtype)

    def f32(self, x):
        return x.to(F32)

    def out(self, x):
        return x.to(F32)


class Model:
    def __init__(self, model_dir, dtype, adapter_dir=None, arith="emulated", tensors=None,
                 config=None):
        self.c = config or parse_config(model_dir)
        self.ops = Emulated(dtype) if arith == "emulated" else Native(dtype)
        tensors = tensors if tensors is not None else load_checkpoint_tensors(model_dir)
        self.raw = tensors
        self.w = {}
        c = self.c

        def take(name, shape, required=True):
            if name not in tensors:
                if required:
                    raise RefError(f"{model_dir}: tensor {name} is missing")
                return None
            t = tensors[name]
            if list(t.shape) != list(shape):
                raise RefError(f"{model_dir}: tensor {name} has shape {list(t.shape)}, expected "
                               f"{list(shape)}")
            # HF loads the checkpoint and casts every weight to the model's dtype
            self.w[name] = self.ops.to_compute(t)
            return self.w[name]

        H, D, I = c.hidden, c.head_dim, c.intermediate
        take("model.embed_tokens.weight", [c.vocab, H])
        take("model.norm.weight", [H])
        if c.tied:
            # tie_weights(): lm_head is the embedding matrix, a stored lm_head.weight is ignored
            self.w["lm_head.weight"] = self.w["model.embed_tokens.weight"]
        else:
            take("lm_head.weight", [c.vocab, H])
        for i in range(c.layers):
            p = f"model.layers.{i}."
            take(p + "input_layernorm.weight", [H])
            take(p + "post_attention_layernorm.weight", [H])
            for proj, out_f, in_f in (("q_proj", c.heads * D, H), ("k_proj", c.kv_heads * D, H),
                                      ("v_proj", c.kv_heads * D, H), ("o_proj", H, c.heads * D)):
                take(p + f"self_attn.{proj}.weight", [out_f, in_f])
                take(p + f"self_attn.{proj}.bias", [out_f], required=c.attention_bias)
            if c.arch == "qwen3":
                take(p + "self_attn.q_norm.weight", [D])
                take(p + "self_attn.k_norm.weight", [D])
            for proj, out_f, in_f in (("gate_proj", I, H), ("up_proj", I, H), ("down_proj", H, I)):
                take(p + f"mlp.{proj}.weight", [out_f, in_f])
                take(p + f"mlp.{proj}.bias", [out_f], required=c.mlp_bias)
        self.lora = load_adapter(adapter_dir, self.w) if adapter_dir else {}
        self.inv_freq = rope_inv_freq(c)

    # -- building blocks, each written the way the HF module computes it --------------------

    def rms_norm(self, x, weight):
        # LlamaRMSNorm / Qwen3RMSNorm: variance in fp32, eps inside the sqrt, cast back to the
        # input dtype, then weight * x (in the compute dtype)
        o = self.ops
        h = o.f32(x)
        var = h.pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(var + self.c.eps)
        return o.r(weight * o.r(h))

    def linear(self, x, name):
        o = self.ops
        w = self.w[name + ".weight"]
        b = self.w.get(name + ".bias")
        y = x @ w.t()
        if b is not None:
            y = y + b
        y = o.r(y)
        if name in self.lora:
            # PEFT: the LoRA branch runs in the adapter's dtype (float32): input cast to it,
            # lora_B(lora_A(x)) * scaling, added to the base result (promoting to fp32), and the
            # sum cast back to the base result's dtype. Dropout is the identity in eval.
            a, bm, scale = self.lora[name]
            delta = ((x.to(F32) @ a.t()) @ bm.t()) * scale
            y = o.r(y.to(F32) + delta)
        return y

    def rope(self, x, cos, sin):
        # x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x2, x1) with x1, x2 the halves:
        # dimension i is paired with i + d/2
        o = self.ops
        half = x.shape[-1] // 2
        rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return o.r(o.r(x * cos) + o.r(rot * sin))

    def attention(self, x, p, cos, sin):
        o, c = self.ops, self.c
        T, D = x.shape[0], c.head_dim
        q = self.linear(x, p + "self_attn.q_proj").view(T, c.heads, D)
        k = self.linear(x, p + "self_attn.k_proj").view(T, c.kv_heads, D)
        v = self.linear(x, p + "self_attn.v_proj").view(T, c.kv_heads, D)
        if c.arch == "qwen3":  # per-head RMSNorm over head_dim, before RoPE
            q = self.rms_norm(q, self.w[p + "self_attn.q_norm.weight"])
            k = self.rms_norm(k, self.w[p + "self_attn.k_norm.weight"])
        q, k, v = (t.transpose(0, 1) for t in (q, k, v))  # [heads, T, D]
        q = self.rope(q, cos, sin)
        k = self.rope(k, cos, sin)
        # repeat_kv: kv head j serves query heads j*g .. j*g+g-1, i.e. query head h reads h // g
        g = c.heads // c.kv_heads
        k = k.repeat_interleave(g, dim=0)
        v = v.repeat_interleave(g, dim=0)
        scores = o.r(o.r(q @ k.transpose(1, 2)) * (D ** -0.5))
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(causal, float("-inf"))  # min-value mask: exp underflows to 0
        probs = o.r(torch.softmax(o.f32(scores), dim=-1))   # softmax in fp32, cast back
        out = o.r(probs @ v)                                 # [heads, T, D]
        out = out.transpose(0, 1).reshape(T, c.heads * D)
        return self.linear(out, p + "self_attn.o_proj")

    def mlp(self, x, p):
        o = self.ops
        gate = self.linear(x, p + "mlp.gate_proj")
        up = self.linear(x, p + "mlp.up_proj")
        act = o.r(torch.nn.functional.silu(gate))
        return self.linear(o.r(act * up), p + "mlp.down_proj")

    def forward(self, ids, logits=True, positions=None):
        """One unpadded sample. Returns (final hidden [T, H] f32, logits [T, V] f32 or None)."""
        o, c = self.ops, self.c
        ids = torch.as_tensor(ids, dtype=torch.int64)
        if ids.numel() == 0:
            raise RefError("an empty sample has no tokens to run")
        if int(ids.min()) < 0 or int(ids.max()) >= c.vocab:
            raise RefError(f"token id out of range [0, {c.vocab}): {ids.tolist()}")
        T = ids.numel()
        pos = torch.arange(T, dtype=F32) if positions is None else positions.to(F32)
        # LlamaRotaryEmbedding: freqs = inv_freq x positions in fp32, emb = cat(freqs, freqs),
        # cos/sin in fp32 (attention_scaling is 1 for default, linear and llama3) then cast
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = o.r(emb.cos()), o.r(emb.sin())
        h = self.w["model.embed_tokens.weight"][ids]
        for i in range(c.layers):
            p = f"model.layers.{i}."
            h = o.r(h + self.attention(self.rms_norm(h, self.w[p + "input_layernorm.weight"]),
                                       p, cos, sin))
            h = o.r(h + self.mlp(self.rms_norm(h, self.w[p + "post_attention_layernorm.weight"]), p))
        h = self.rms_norm(h, self.w["model.norm.weight"])
        out_logits = o.out(o.r(h @ self.w["lm_head.weight"].t())) if logits else None
        return o.out(h), out_logits


# ---------------------------------------------------------------------------------------------
# PEFT adapter


_LORA_KEY = re.compile(r"^(?:base_model\.model\.)?(.*)\.(lora_[AB])(?:\.[A-Za-z0-9_]+)?\.weight$")


def load_adapter(adapter_dir, base_weights):
    """{module name: (A [r, in] f32, B [out, r] f32, scaling)} for every module the adapter has."""
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        cfg = json.load(f)
    if cfg.get("peft_type", "LORA") != "LORA":
        raise RefError(f"{adapter_dir}: peft_type {cfg.get('peft_type')!r} is not LORA")
    for key in ("use_dora", "fan_in_fan_out"):
        if cfg.get(key):
            raise RefError(f"{adapter_dir}: {key}=true is not modelled")
    if cfg.get("bias", "none") != "none":
        raise RefError(f"{adapter_dir}: bias={cfg['bias']!r} is not modelled")
    r_default = int(cfg["r"])
    alpha_default = float(cfg.get("lora_alpha", 8))
    rank_pattern = cfg.get("rank_pattern") or {}
    alpha_pattern = cfg.get("alpha_pattern") or {}
    rslora = bool(cfg.get("use_rslora", False))
    path = os.path.join(adapter_dir, "adapter_model.safetensors")
    if not os.path.exists(path):
        raise RefError(f"{adapter_dir}: adapter_model.safetensors is missing")
    parts = {}
    for key, t in read_safetensors(path).items():
        m = _LORA_KEY.match(key)
        if not m:
            raise RefError(f"{adapter_dir}: unexpected adapter tensor {key}")
        parts.setdefault(m.group(1), {})[m.group(2)] = t
    if not parts:
        raise RefError(f"{adapter_dir}: the adapter has no lora_A/lora_B tensors")

    def pattern_value(pattern, module, default):
        # PEFT matches a pattern key against the end of the module name
        for k, v in pattern.items():
            if re.match(rf"(.*\.)?{k}$", module):
                return v
        return default

    lora = {}
    for module, ab in sorted(parts.items()):
        if set(ab) != {"lora_A", "lora_B"}:
            raise RefError(f"{adapter_dir}: {module} has {sorted(ab)}, needs lora_A and lora_B")
        if module + ".weight" not in base_weights:
            raise RefError(f"{adapter_dir}: {module} is not a linear layer of the model")
        out_f, in_f = base_weights[module + ".weight"].shape
        r = int(pattern_value(rank_pattern, module, r_default))
        alpha = float(pattern_value(alpha_pattern, module, alpha_default))
        a, b = ab["lora_A"], ab["lora_B"]
        if list(a.shape) != [r, in_f] or list(b.shape) != [out_f, r]:
            raise RefError(f"{adapter_dir}: {module} lora_A {list(a.shape)} / lora_B "
                           f"{list(b.shape)}, expected [{r}, {in_f}] / [{out_f}, {r}]")
        scale = alpha / math.sqrt(r) if rslora else alpha / r
        # PEFT keeps (autocast_adapter_dtype) the adapter weights in float32
        lora[module] = (a.to(F32), b.to(F32), scale)
    return lora


# ---------------------------------------------------------------------------------------------
# --check


# Tolerances, per compute dtype, on two errors per dataset, both relative to the reference:
#   max = max |out - ref| / max |ref|    (worst element against the dataset's scale)
#   rms = ||out - ref||_2 / ||ref||_2    (average error; catches small systematic drift)
# fp32: two correct fp32 implementations differ only by summation order and by the last bit
#   of inv_freq / cos / sin (angles up to ~250 rad): measured ~1e-6 on these small models. A
#   semantic slip (RoPE pairing, GQA mapping, position offset, missing norm weight, LoRA
#   scale, mean over padding) gives >= 1e-3, so 1e-4 / 2e-5 separate the two cleanly.
# bf16 (8 significant bits, unit roundoff 2^-8 = 3.9e-3): an implementation that rounds at
#   other points (fused kernels, another accumulation order) differs by a few ulps per op,
#   compounding through the layers. Measured on 3-layer self-test models: torch's native bf16
#   kernels vs this emulation max 1.5e-2, rms 1.2e-2 (the same size as bf16 vs fp32, so no
#   bf16 tolerance can tell "computed in fp32" from "computed in bf16"; the fp32 cases carry
#   the fine semantics). Tolerances 4x / 2.5x the measured noise: max 6e-2, rms 3e-2; the
#   semantic slips above still give errors of order 1e-1..1.
# fp16 (11 significant bits, unit roundoff 2^-11 = 4.9e-4, 8x finer than bf16): measured
#   fp16 vs fp32 on the same models max 2.6e-3, rms 1.5e-3; tolerances max 1e-2, rms 5e-3.
TOLERANCES = {
    torch.float32: {"max": 1e-4, "rms": 2e-5},
    torch.bfloat16: {"max": 6e-2, "rms": 3e-2},
    torch.float16: {"max": 1e-2, "rms": 5e-3},
}


def read_ids(path):
    samples = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                ids = json.loads(line)["ids"]
            except (ValueError, KeyError, TypeError) as e:
                raise RefError(f"{path}:{lineno}: expected {{\"ids\": [...]}}: {e}")
            if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids) or not ids:
                raise RefError(f"{path}:{lineno}: ids must be a non-empty list of integers")
            samples.append(ids)
    if not samples:
        raise RefError(f"{path}: no samples")
    return samples


class Compare:
    """Accumulates max/rms errors of one dataset over samples and remembers the worst element."""

    def __init__(self, name):
        self.name = name
        self.max_err = 0.0
        self.where = None
        self.max_ref = 0.0
        self.sq_err = 0.0
        self.sq_ref = 0.0
        self.nonfinite = None

    def add(self, out, ref, label):
        out = np.asarray(out, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
        if not np.all(np.isfinite(out)) and self.nonfinite is None:
            self.nonfinite = f"{label}, element {np.unravel_index(np.argmin(np.isfinite(out)), out.shape)}"
        diff = np.abs(out - ref)
        diff[~np.isfinite(diff)] = np.inf
        if diff.size:
            k = int(np.argmax(diff))
            if diff.flat[k] > self.max_err or self.where is None:
                self.max_err = float(diff.flat[k])
                self.where = (label, np.unravel_index(k, diff.shape), float(out.flat[k]),
                              float(ref.flat[k]))
        self.max_ref = max(self.max_ref, float(np.max(np.abs(ref))) if ref.size else 0.0)
        self.sq_err += float(np.sum(diff ** 2))
        self.sq_ref += float(np.sum(ref ** 2))

    def verdict(self, tol):
        rel_max = self.max_err / max(self.max_ref, 1e-30)
        rel_rms = math.sqrt(self.sq_err) / max(math.sqrt(self.sq_ref), 1e-30)
        label, idx, got, want = self.where
        text = (f"{self.name}: max err {self.max_err:.3e} = {rel_max:.2e} of max|ref| "
                f"{self.max_ref:.3e} (tol {tol['max']:.0e}), rms {rel_rms:.2e} (tol "
                f"{tol['rms']:.0e}); worst at {label} index {tuple(int(i) for i in idx)}: "
                f"got {got:.6g}, ref {want:.6g}")
        problems = []
        if self.nonfinite:
            problems.append(f"{self.name}: non-finite value at {self.nonfinite}")
        if not (rel_max <= tol["max"]):
            problems.append(f"{self.name}: max error {rel_max:.2e} of the scale exceeds "
                            f"{tol['max']:.0e} (worst at {label} index "
                            f"{tuple(int(i) for i in idx)}: got {got:.6g}, ref {want:.6g})")
        if not (rel_rms <= tol["rms"]):
            problems.append(f"{self.name}: rms error {rel_rms:.2e} exceeds {tol['rms']:.0e}")
        return text, problems


def check(model, samples, h5_path, want_logits, tol, log=print):
    """Compare an `ntk-select forward` output file with the reference. Returns the problems."""
    problems = []
    n = len(samples)
    lengths = [len(s) for s in samples]
    max_len = max(lengths)
    H, V = model.c.hidden, model.c.vocab
    with h5py.File(h5_path, "r") as f:
        def dataset(name, shape_ok, shape_text, dtype):
            if name not in f:
                problems.append(f"{name}: dataset missing (file has {sorted(f.keys())})")
                return None
            d = f[name]
            if not shape_ok(d.shape):
                problems.append(f"{name}: shape {d.shape}, expected {shape_text}")
                return None
            if d.dtype != np.dtype(dtype):
                problems.append(f"{name}: dtype {d.dtype}, expected {dtype}")
            return d[...]

        emb = dataset("embeddings", lambda s: s == (n, H), f"({n}, {H})", np.float32)
        lens = dataset("lengths", lambda s: s == (n,), f"({n},)", np.int64)
        last = dataset("last_hidden", lambda s: len(s) == 3 and s[0] == n and s[1] >= max_len
                       and s[2] == H, f"({n}, >={max_len}, {H})", np.float32)
        logits = None
        if "logits" in f or want_logits:
            logits = dataset("logits", lambda s: len(s) == 3 and s[0] == n and s[1] >= max_len
                             and s[2] == V, f"({n}, >={max_len}, {V})", np.float32)
    if lens is not None and list(map(int, lens)) != lengths:
        bad = [i for i in range(n) if int(lens[i]) != lengths[i]]
        problems.append(f"lengths: sample {bad[0]} has {int(lens[bad[0]])}, its ids have "
                        f"{lengths[bad[0]]} ({len(bad)} samples differ)")
    cmp = {k: Compare(k) for k in ("embeddings", "last_hidden", "logits")}
    for i, ids in enumerate(samples):
        T = len(ids)
        hidden, lg = model.forward(ids, logits=logits is not None)
        hidden = hidden.numpy().astype(np.float64)
        if emb is not None:
            # mean over the sample's tokens, in float64 from the (compute-dtype) hidden states
            cmp["embeddings"].add(emb[i], hidden.mean(axis=0), f"sample {i}")
        if last is not None:
            cmp["last_hidden"].add(last[i, :T], hidden, f"sample {i} (length {T})")
            pad = last[i, T:]
            if pad.size and np.any(pad != 0):
                t = int(np.argwhere(np.any(pad != 0, axis=-1))[0][0])
                problems.append(f"last_hidden: sample {i} (length {T}) padded row {T + t} is not 0")
        if logits is not None:
            cmp["logits"].add(logits[i, :T], lg.numpy(), f"sample {i} (length {T})")
            pad = logits[i, T:]
            if pad.size and np.any(pad != 0):
                t = int(np.argwhere(np.any(pad != 0, axis=-1))[0][0])
                problems.append(f"logits: sample {i} (length {T}) padded row {T + t} is not 0")
    for name, c in cmp.items():
        if c.where is None:
            continue
        text, p = c.verdict(tol)
        log(text)
        problems.extend(p)
    return problems


# ---------------------------------------------------------------------------------------------
# self-test: a tiny checkpoint written here, internal invariants of the reference


def random_checkpoint(arch="llama", layers=2, hidden=32, intermediate=48, heads=4, kv_heads=2,
                      head_dim=None, vocab=50, tied=False, bias=False, seed=0, rope_scaling=None,
                      rope_theta=10000.0):
    gen = torch.Generator().manual_seed(seed)
    rnd = lambda *shape, s=0.2: torch.randn(*shape, generator=gen) * s
    D = head_dim or (hidden // heads)
    t = {"model.embed_tokens.weight": rnd(vocab, hidden, s=1.0),
         "model.norm.weight": 1 + rnd(hidden)}
    if not tied:
        t["lm_head.weight"] = rnd(vocab, hidden)
    for i in range(layers):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = 1 + rnd(hidden)
        t[p + "post_attention_layernorm.weight"] = 1 + rnd(hidden)
        for name, o, n in (("q_proj", heads * D, hidden), ("k_proj", kv_heads * D, hidden),
                           ("v_proj", kv_heads * D, hidden), ("o_proj", hidden, heads * D)):
            t[p + f"self_attn.{name}.weight"] = rnd(o, n, s=n ** -0.5)
            if bias:
                t[p + f"self_attn.{name}.bias"] = rnd(o)
        if arch == "qwen3":
            t[p + "self_attn.q_norm.weight"] = 1 + rnd(D)
            t[p + "self_attn.k_norm.weight"] = 1 + rnd(D)
        for name, o, n in (("gate_proj", intermediate, hidden), ("up_proj", intermediate, hidden),
                           ("down_proj", hidden, intermediate)):
            t[p + f"mlp.{name}.weight"] = rnd(o, n, s=n ** -0.5)
    config = {"architectures": ["LlamaForCausalLM" if arch == "llama" else "Qwen3ForCausalLM"],
              "model_type": arch, "vocab_size": vocab, "hidden_size": hidden,
              "intermediate_size": intermediate, "num_hidden_layers": layers,
              "num_attention_heads": heads, "num_key_value_heads": kv_heads,
              "rms_norm_eps": 1e-6, "rope_theta": rope_theta, "tie_word_embeddings": tied,
              "attention_bias": bias, "hidden_act": "silu", "torch_dtype": "float32",
              "max_position_embeddings": 256, "rope_scaling": rope_scaling}
    if head_dim:
        config["head_dim"] = head_dim
    return config, t


def save_checkpoint(directory, config, tensors, shards=1, dtype=None):
    os.makedirs(directory, exist_ok=True)
    if dtype is not None:
        tensors = {k: v.to(dtype) for k, v in tensors.items()}
        config = dict(config, torch_dtype={torch.bfloat16: "bfloat16", torch.float16: "float16",
                                           torch.float32: "float32"}[dtype])
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if shards == 1:
        write_safetensors(os.path.join(directory, "model.safetensors"), tensors,
                          {"format": "pt"})
        return
    names = sorted(tensors)
    weight_map = {}
    for s in range(shards):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: tensors[n] for n in names[s::shards]}
        write_safetensors(os.path.join(directory, fname), part, {"format": "pt"})
        weight_map.update({n: fname for n in part})
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)


def save_adapter(directory, tensors, r, alpha, targets, zero_b=False, seed=1, rslora=False):
    os.makedirs(directory, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, w in sorted(tensors.items()):
        module = name[:-len(".weight")]
        if not name.endswith(".weight") or module.split(".")[-1] not in targets:
            continue
        o, n = w.shape
        key = "base_model.model." + module
        out[key + ".lora_A.weight"] = torch.randn(r, n, generator=gen) * n ** -0.5
        out[key + ".lora_B.weight"] = (torch.zeros(o, r) if zero_b
                                       else torch.randn(o, r, generator=gen) * 0.3)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"), out)
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "r": r, "lora_alpha": alpha, "lora_dropout": 0.05,
                   "target_modules": sorted(targets), "bias": "none", "use_rslora": rslora,
                   "task_type": "CAUSAL_LM", "fan_in_fan_out": False}, f)
    return out


def write_output(path, model, samples, logits=True, pad_value=0.0):
    """An output file in the layout `ntk-select forward` writes (for exercising --check)."""
    n, L = len(samples), max(len(s) for s in samples)
    H, V = model.c.hidden, model.c.vocab
    emb = np.zeros((n, H), np.float32)
    last = np.full((n, L, H), pad_value, np.float32)
    lg = np.zeros((n, L, V), np.float32)
    for i, ids in enumerate(samples):
        h, l = model.forward(ids, logits=logits)
        last[i, :len(ids)] = h.numpy()
        emb[i] = h.numpy().mean(axis=0)
        if logits:
            lg[i, :len(ids)] = l.numpy()
    with h5py.File(path, "w") as f:
        f["embeddings"] = emb
        f["last_hidden"] = last
        f["lengths"] = np.array([len(s) for s in samples], np.int64)
        if logits:
            f["logits"] = lg


def rel_err(a, b):
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def self_test():
    results = []

    def expect(ok, what):
        results.append(ok)
        print(("ok    " if ok else "FAIL  ") + what)

    tmp = tempfile.mkdtemp(prefix="hf_reference_selftest_")
    ids = [3, 17, 42, 5, 0, 49, 8, 8, 23, 11, 30, 2, 19]
    samples = [ids, ids[:1], ids[:7], [49, 1, 2, 3]]

    # 1. safetensors round trip in every dtype, and a sharded checkpoint reads back the same
    config, tensors = random_checkpoint()
    d = os.path.join(tmp, "base")
    save_checkpoint(d, config, tensors)
    back = read_safetensors(os.path.join(d, "model.safetensors"))
    expect(set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors),
           "safetensors F32 round trip")
    for dt in (torch.bfloat16, torch.float16):
        p = os.path.join(tmp, f"rt_{dt}.safetensors")
        write_safetensors(p, {k: v.to(dt) for k, v in tensors.items()})
        b = read_safetensors(p)
        expect(all(b[k].dtype == dt and torch.equal(b[k], tensors[k].to(dt)) for k in tensors),
               f"safetensors {dt} round trip (values = float32 rounded to {dt})")
    ds = os.path.join(tmp, "sharded")
    save_checkpoint(ds, config, tensors, shards=3)
    sh = load_checkpoint_tensors(ds)
    expect(set(sh) == set(tensors) and all(torch.equal(sh[k], tensors[k]) for k in tensors),
           "3-shard checkpoint reads the same tensors")

    base = Model(d, F32)
    h_full, l_full = base.forward(ids)

    # 2. causality: a prefix gives the first rows of the full sample
    h_pre, l_pre = base.forward(ids[:6])
    expect(rel_err(h_pre, h_full[:6]) < 1e-5 and rel_err(l_pre, l_full[:6]) < 1e-5,
           "causal: a prefix's outputs equal the first rows of the full sample's")

    # 3. RoPE (default) depends on relative positions only: shifting every position by 37
    #    leaves the outputs unchanged
    h_shift, _ = base.forward(ids, positions=torch.arange(len(ids)) + 37)
    expect(rel_err(h_shift, h_full) < 1e-4, "rope: a constant position shift changes nothing")

    # 4. rotate_half pairing against complex rotation of (x_i, x_{i+d/2}) in float64
    D = base.c.head_dim
    x = torch.randn(3, 5, D)
    pos = torch.arange(5, dtype=torch.float64)
    ang = pos[:, None] * base.inv_freq.double()[None, :]
    z = torch.complex(x[..., :D // 2].double(), x[..., D // 2:].double()) * torch.polar(
        torch.ones_like(ang), ang)
    want = torch.cat([z.real, z.imag], dim=-1)
    emb = torch.cat([ang, ang], -1).float()
    got = base.rope(x, emb.cos(), emb.sin())
    expect(rel_err(got, want) < 1e-5, "rope: rotate_half = complex rotation of dims (i, i+d/2)")

    # 5. llama3 inv_freq against a scalar float64 evaluation of the three bands
    c3 = parse_config(d)
    c3.rope_type, c3.head_dim, c3.rope = "llama3", 16, {
        "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64}
    got = rope_inv_freq(c3)
    bands = set()
    ok = True
    for i in range(8):
        f = 1.0 / 10000.0 ** (2 * i / 16)
        wl = 2 * math.pi / f
        if wl < 64 / 4:
            w, band = f, "high"
        elif wl > 64 / 1:
            w, band = f / 8, "low"
        else:
            s = (64 / wl - 1) / (4 - 1)
            w, band = (1 - s) * f / 8 + s * f, "mid"
        bands.add(band)
        ok &= abs(float(got[i]) - w) <= 1e-6 * w
    expect(ok and bands == {"high", "mid", "low"}, "llama3 rope: three bands match the formula")
    c3.rope_type, c3.rope = "linear", {"factor": 4.0}
    expect(torch.allclose(rope_inv_freq(c3) * 4, 1.0 / 10000.0 ** (torch.arange(0, 16, 2) / 16.0)),
           "linear rope: inv_freq divided by the factor")

    # 6. GQA: the 4-head/2-kv model equals an MHA model whose k/v heads are repeated so that
    #    query head h gets kv head h // 2
    mha_cfg = dict(config, num_key_value_heads=4)
    mha = dict(tensors)
    for i in range(config["num_hidden_layers"]):
        for proj in ("k_proj", "v_proj"):
            key = f"model.layers.{i}.self_attn.{proj}.weight"
            w = tensors[key].view(2, D, -1)
            mha[key] = w.repeat_interleave(2, dim=0).reshape(4 * D, -1)
    dm = os.path.join(tmp, "mha")
    save_checkpoint(dm, mha_cfg, mha)
    h_mha, _ = Model(dm, F32).forward(ids)
    expect(rel_err(h_mha, h_full) < 1e-5, "GQA: query head h reads kv head h // (heads/kv_heads)")
    wrong = dict(mha)
    for i in range(config["num_hidden_layers"]):
        for proj in ("k_proj", "v_proj"):
            key = f"model.layers.{i}.self_attn.{proj}.weight"
            wrong[key] = tensors[key].view(2, D, -1).repeat(2, 1, 1).reshape(4 * D, -1)
    save_checkpoint(dm, mha_cfg, wrong)
    h_wrong, _ = Model(dm, F32).forward(ids)
    expect(rel_err(h_wrong, h_full) > 1e-3, "GQA: the h % kv_heads mapping gives different output")

    # 7. tied embeddings equal an untied model whose lm_head is the embedding
    tcfg, tt = random_checkpoint(tied=True, seed=3)
    dt_ = os.path.join(tmp, "tied")
    save_checkpoint(dt_, tcfg, tt)
    ucfg = dict(tcfg, tie_word_embeddings=False)
    ut = dict(tt, **{"lm_head.weight": tt["model.embed_tokens.weight"].clone()})
    du = os.path.join(tmp, "untied")
    save_checkpoint(du, ucfg, ut)
    _, lt = Model(dt_, F32).forward(ids)
    _, lu = Model(du, F32).forward(ids)
    expect(torch.equal(lt, lu), "tied embeddings: lm_head = embed_tokens")

    # 8. LoRA: B = 0 equals the base model exactly (fp32 and bf16)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    az = os.path.join(tmp, "adapter_zero")
    save_adapter(az, tensors, 4, 8, targets, zero_b=True)
    h0, l0 = Model(d, F32, az).forward(ids)
    expect(torch.equal(h0, h_full) and torch.equal(l0, l_full), "LoRA with B = 0 equals base (fp32)")
    hb, _ = Model(d, torch.bfloat16).forward(ids)
    hb0, _ = Model(d, torch.bfloat16, az).forward(ids)
    expect(torch.equal(hb, hb0), "LoRA with B = 0 equals base (bf16)")

    # 9. LoRA forward equals the merged weights W + (alpha/r) B A, and differs from the base
    for rslora in (False, True):
        a1 = os.path.join(tmp, f"adapter_{rslora}")
        lw = save_adapter(a1, tensors, 4, 8, targets, rslora=rslora)
        scale = 8 / math.sqrt(4) if rslora else 8 / 4
        merged = dict(tensors)
        for k in tensors:
            key = "base_model.model." + k[:-len(".weight")]
            if key + ".lora_A.weight" in lw:
                merged[k] = tensors[k] + scale * lw[key + ".lora_B.weight"] @ lw[key + ".lora_A.weight"]
        dmg = os.path.join(tmp, "merged")
        save_checkpoint(dmg, config, merged)
        hl, ll = Model(d, F32, a1).forward(ids)
        hm, lm = Model(dmg, F32).forward(ids)
        expect(rel_err(hl, hm) < 1e-5 and rel_err(ll, lm) < 1e-5 and rel_err(hl, h_full) > 1e-2,
               f"LoRA (use_rslora={rslora}) equals the merged weights W + s*B*A, s={scale}")

    # 10. the fp32 emulation and torch's native fp32 path are the same computation; bf16
    #     emulation agrees with torch's native bf16 kernels (this sizes the bf16 tolerance)
    hn, ln = Model(d, F32, arith="native").forward(ids)
    expect(rel_err(hn, h_full) < 1e-6, "fp32: emulated and native arithmetic agree")
    worst_max, worst_rms = 0.0, 0.0
    for arch, kw in (("llama", {}), ("qwen3", {"head_dim": 16})):
        for seed in range(3):
            cfg_s, ts = random_checkpoint(arch=arch, seed=10 + seed, layers=3, **kw)
            dq = os.path.join(tmp, f"bf_{arch}_{seed}")
            save_checkpoint(dq, cfg_s, ts)
            for s in samples:
                he, le = Model(dq, torch.bfloat16).forward(s)
                hn, ln = Model(dq, torch.bfloat16, arith="native").forward(s)
                for a, b in ((hn, he), (ln, le)):
                    worst_max = max(worst_max, rel_err(a, b))
                    worst_rms = max(worst_rms, float((a - b).norm() / b.norm()))
    tol = TOLERANCES[torch.bfloat16]
    print(f"      bf16 native vs emulated: max {worst_max:.2e}, rms {worst_rms:.2e}")
    expect(worst_max < tol["max"] / 2 and worst_rms < tol["rms"] / 2,
           "bf16: emulated arithmetic agrees with torch's native bf16 well within tolerance")
    # ... and the bf16 tolerance still catches semantic slips: the h % kv_heads GQA mapping
    # (the `wrong` checkpoint of check 6) and RoPE on interleaved pairs (2i, 2i+1), which is the
    # half-split RoPE applied to q/k weights whose rows are permuted within each head
    hb_ok, lb_ok = Model(d, torch.bfloat16).forward(ids)
    save_checkpoint(dm, mha_cfg, wrong)
    slips = {"GQA h % kv_heads": Model(dm, torch.bfloat16).forward(ids)}
    perm = torch.cat([torch.arange(0, D, 2), torch.arange(1, D, 2)])
    inter = dict(tensors)
    for i in range(config["num_hidden_layers"]):
        for proj in ("q_proj", "k_proj"):
            key = f"model.layers.{i}.self_attn.{proj}.weight"
            w = tensors[key]
            inter[key] = w.view(-1, D, w.shape[-1])[:, perm].reshape(w.shape)
    save_checkpoint(dm, config, inter)
    slips["interleaved RoPE"] = Model(dm, torch.bfloat16).forward(ids)
    for name, (hs, ls) in slips.items():
        e_max = min(rel_err(hs, hb_ok), rel_err(ls, lb_ok))
        e_rms = min(float((hs - hb_ok).norm() / hb_ok.norm()), float((ls - lb_ok).norm() / lb_ok.norm()))
        expect(e_max > 2 * tol["max"] and e_rms > 2 * tol["rms"],
               f"bf16 tolerance catches {name} (max {e_max:.1e}, rms {e_rms:.1e})")
    h16, _ = Model(d, torch.float16).forward(ids)
    h32 = h_full
    expect(rel_err(h16, h32) < 2e-2 and rel_err(h16, h32) > 0, "fp16 emulation runs and is close "
           f"to fp32 ({rel_err(h16, h32):.1e})")

    # 11. bf16 checkpoint: weights read back equal the fp32 ones rounded to bf16
    dbf = os.path.join(tmp, "bf16ckpt")
    save_checkpoint(dbf, config, tensors, dtype=torch.bfloat16)
    mb = Model(dbf, torch.bfloat16)
    expect(all(torch.equal(mb.w[k], tensors[k].to(torch.bfloat16).float()) for k in tensors),
           "bf16 checkpoint: weights = float32 values rounded to bf16")

    # 12. qwen3 with head_dim != hidden/heads, q/k norms and attention bias runs and is causal
    qcfg, qt = random_checkpoint(arch="qwen3", head_dim=16, hidden=32, heads=4, kv_heads=2,
                                 bias=True, seed=5)
    dq = os.path.join(tmp, "qwen3")
    save_checkpoint(dq, qcfg, qt)
    mq = Model(dq, F32)
    hq, _ = mq.forward(ids)
    hq6, _ = mq.forward(ids[:6])
    expect(hq.shape == (len(ids), 32) and rel_err(hq6, hq[:6]) < 1e-5,
           "qwen3: head_dim 16 with hidden 32 / 4 heads, q/k norm, bias")
    qnorm = dict(qt)
    qnorm["model.layers.0.self_attn.q_norm.weight"] = qt["model.layers.0.self_attn.q_norm.weight"] * 2
    save_checkpoint(dq, qcfg, qnorm)
    expect(rel_err(Model(dq, F32).forward(ids)[0], hq) > 1e-3, "qwen3: q_norm weight is used")

    # 13. --check accepts a correct file, rejects a perturbed one, a non-zero pad and a bad length
    out = os.path.join(tmp, "out.h5")
    write_output(out, base, samples)
    quiet = lambda *a: None
    expect(check(base, samples, out, True, TOLERANCES[F32], quiet) == [],
           "--check accepts the reference's own output")
    with h5py.File(out, "r+") as f:
        f["last_hidden"][2, 3, 4] += 1e-2
    p = check(base, samples, out, True, TOLERANCES[F32], quiet)
    expect(any("last_hidden" in s for s in p), "--check rejects a perturbed last_hidden")
    write_output(out, base, samples, pad_value=1e-30)
    p = check(base, samples, out, True, TOLERANCES[F32], quiet)
    expect(any("padded row" in s for s in p), "--check rejects a non-zero padded row")
    write_output(out, base, samples)
    with h5py.File(out, "r+") as f:
        f["lengths"][1] = 2
    p = check(base, samples, out, True, TOLERANCES[F32], quiet)
    expect(any(s.startswith("lengths") for s in p), "--check rejects a wrong length")
    write_output(out, base, samples, logits=False)
    p = check(base, samples, out, True, TOLERANCES[F32], quiet)
    expect(any("logits" in s for s in p), "--check with --logits requires the logits dataset")
    write_output(out, Model(d, F32, os.path.join(tmp, "adapter_False")), samples)
    p = check(base, samples, out, True, TOLERANCES[F32], quiet)
    expect(len(p) > 0, "--check rejects an output computed with an adapter the reference lacks")

    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    failed = results.count(False)
    print(f"self-test: {len(results) - failed}/{len(results)} checks passed")
    return 0 if failed == 0 else 1


# ---------------------------------------------------------------------------------------------


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="HF checkpoint folder (config.json + safetensors)")
    ap.add_argument("--adapter", help="PEFT LoRA adapter folder")
    ap.add_argument("--input", help="JSONL, one {\"ids\": [...]} per line")
    ap.add_argument("--dtype", choices=["fp32", "bf16", "fp16"],
                    help="compute dtype (default: the config's torch_dtype, else fp32)")
    ap.add_argument("--check", metavar="OUT.h5", help="ntk-select forward output to compare")
    ap.add_argument("--logits", action="store_true", help="require and compare the logits")
    ap.add_argument("--self-test", action="store_true", help="check the reference itself")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not (args.model and args.input and args.check):
        ap.error("--model, --input and --check are required (or --self-test)")
    try:
        config = parse_config(args.model)
        dtype = DTYPES[args.dtype or config.torch_dtype or "fp32"]
        model = Model(args.model, dtype, args.adapter, config=config)
        samples = read_ids(args.input)
        tol = TOLERANCES[dtype]
        print(f"reference: {config.arch}, {config.layers} layers, hidden {config.hidden}, heads "
              f"{config.heads}/{config.kv_heads}, head_dim {config.head_dim}, rope "
              f"{config.rope_type}, tied {config.tied}, dtype {str(dtype)[6:]}, "
              f"LoRA modules {len(model.lora)}, {len(samples)} samples")
        problems = check(model, samples, args.check, args.logits, tol)
    except (RefError, OSError, KeyError, ValueError) as e:
        print(f"hf_reference.py: error: {e}", file=sys.stderr)
        return 1
    if problems:
        for p in problems:
            print(f"MISMATCH {p}")
        print(f"FAIL: {args.check} differs from the reference in {len(problems)} way(s)")
        return 1
    print(f"PASS: {args.check} matches the reference ({len(samples)} samples, dtype "
          f"{str(dtype)[6:]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
