#!/usr/bin/env python3
"""Independent reference for `ntk-select diagnose` on tiny models.

Shares no code with src/: the model is tests/reference/hf_reference.py (its own
forward and PEFT LoRA), gradients come from plain torch autograd, one sample and
one output at a time, and the exact NTK is the literal sum over every vocabulary
entry (no factorisation through the hidden states, which the C++ code uses).

  fidelity MODEL ADAPTER DATA.jsonl DIM SEED SCALE        -> JSON on stdout
  stability MODEL DATA.jsonl OUTPUT SCALE DIM SEED ADAPTER... -> JSON on stdout
  entk MODEL ADAPTER OPTIONS.jsonl SPLIT.json OUTPUT SCALE DIM SEED -> JSON on stdout

DATA.jsonl holds pre-tokenized records {"ids": [...], "response_mask": [...]},
all of which are used, in file order. OUTPUT is logit_sum or log_likelihood.
"""

import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import hf_reference as hf  # noqa: E402

MODULES = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
M64 = (1 << 64) - 1


def load(model_dir, adapter_dir):
    m = hf.Model(model_dir, torch.float32, adapter_dir)
    params, names = [], []
    for layer in range(m.c.layers):
        for mod in MODULES:
            key = f"model.layers.{layer}.{mod}"
            if key in m.lora:
                a, b, s = m.lora[key]
                a = a.clone().requires_grad_(True)
                b = b.clone().requires_grad_(True)
                m.lora[key] = (a, b, s)
                params += [a, b]
                names += [key + ".lora_A", key + ".lora_B"]
    return m, params, names


def read_records(path):
    out = []
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                out.append((r["ids"], r["response_mask"]))
    return out


def rows(mask):
    """Positions t-1 of the response tokens t >= 1 (the rows that predict them)."""
    return [t - 1 for t in range(1, len(mask)) if mask[t]]


def flat_grad(out, params, retain):
    gs = torch.autograd.grad(out, params, retain_graph=retain, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1).double()
                      for g, p in zip(gs, params)])


def f_grad(model, params, ids, mask, output, scale):
    _, logits = model.forward(ids)
    r = rows(mask)
    if output == "logit_sum":
        f = sum(logits[t].sum() for t in r)
    else:
        f = sum(torch.log_softmax(logits[t], -1)[ids[t + 1]] for t in r)
    return flat_grad(f * (scale / len(r)), params, False)


def vocab_jacobian(model, params, ids, mask, scale):
    """[V, P] float64: row v = grad of z_v = scale/|R| sum_{t in R} logits[t, v]."""
    _, logits = model.forward(ids)
    r = rows(mask)
    z = logits[r].sum(0) * (scale / len(r))
    return torch.stack([flat_grad(z[v], params, v + 1 < z.numel()) for v in range(z.numel())])


def mix(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def projection(p, d, seed):
    """P [p, d] of +-1: bit j % 64 of mix(row_key(i) + j // 64) set -> -1."""
    key = mix(seed)
    out = np.empty((p, d))
    words = (d + 63) // 64
    for i in range(p):
        rk = mix(key ^ mix(i))
        bits = [mix((rk + w) & M64) for w in range(words)]
        out[i] = [-1.0 if (bits[j // 64] >> (j % 64)) & 1 else 1.0 for j in range(d)]
    return out


def rankdata(x):
    x = np.asarray(x)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]:
            j += 1
        r[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return r


def upper(k):
    return k[np.triu_indices(k.shape[0])]


def jl_bound(n, d, delta):
    m = n * n
    fail = lambda e: 2 * m * math.exp(-d * (e * e / 2 - e ** 3 / 3) / 2)  # noqa: E731
    if fail(1.0) > delta:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if fail(mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi


def fidelity(model_dir, adapter, data, dim, seed, scale):
    model, params, _ = load(model_dir, adapter)
    recs = read_records(data)
    jac = [vocab_jacobian(model, params, ids, mask, scale) for ids, mask in recs]
    n = len(recs)
    exact = np.array([[float((jac[i] * jac[j]).sum()) for j in range(n)] for i in range(n)])
    g = torch.stack([j.sum(0) for j in jac]).numpy()
    jf = g @ g.T
    ph = g @ projection(g.shape[1], dim, seed) / math.sqrt(dim)
    kp = ph @ ph.T
    ex_u, jf_u = upper(exact), upper(jf)
    norms = np.sqrt(np.outer(np.diag(jf), np.diag(jf)))
    err = upper(np.abs(kp - jf) / norms)
    return {
        "exact": exact.tolist(), "jacobian_free": jf.tolist(), "projected": kp.tolist(),
        "pearson": float(np.corrcoef(jf_u, ex_u)[0, 1]),
        "spearman": float(np.corrcoef(rankdata(jf_u), rankdata(ex_u))[0, 1]),
        "cross_share": float(np.linalg.norm(jf - exact) / np.linalg.norm(exact)),
        "cross_share_mean_abs": float(np.abs(jf_u - ex_u).mean() / np.abs(ex_u).mean()),
        # residual of a least-squares fit jf ~ c * exact, relative to jf
        "jf_over_exact": float(np.sum(jf * exact) / np.sum(exact * exact)),
        "shape_error": float(np.linalg.norm(jf - np.sum(jf * exact) / np.sum(exact * exact) * exact)
                             / np.linalg.norm(jf)),
        "jl_max_rel_error": float(err.max()), "jl_mean_rel_error": float(err.mean()),
        "jl_bound": jl_bound(n, dim, 0.05),
    }


def stability(model_dir, data_files, output, scale, dim, seed, adapters):
    recs = [r for f in data_files.split(",") for r in read_records(f)]
    cosines, a_shares, kernels, k0 = [], [], [], None
    for adapter in adapters:
        model, params, names = load(model_dir, adapter)
        g = torch.stack([f_grad(model, params, ids, mask, output, scale) for ids, mask in recs]).numpy()
        is_a = np.concatenate([np.full(p.numel(), n.endswith("lora_A")) for p, n in zip(params, names)])
        ga, gb = g * is_a, g * ~is_a
        if dim > 0:
            proj = projection(g.shape[1], dim, seed) / math.sqrt(dim)
            ga, gb = ga @ proj, gb @ proj
        k = (ga + gb) @ (ga + gb).T
        k0 = k if k0 is None else k0
        cosines.append(float((k0 * k).sum() / (np.linalg.norm(k0) * np.linalg.norm(k))))
        ta, tb = float(np.trace(ga @ ga.T)), float(np.trace(gb @ gb.T))
        a_shares.append(ta / (ta + tb))
        kernels.append(k.tolist())
    return {"cosines": cosines, "a_shares": a_shares, "kernels": kernels,
            "min_cosine": min(cosines[1:]), "epsilon": 1 - min(cosines[1:])}


def entk(model_dir, adapter, options_file, result_file, output, scale, dim, seed):
    model, params, _ = load(model_dir, adapter)
    opts = read_records(options_file)
    meta = [json.loads(line) for line in open(options_file) if line.strip()]
    res = json.load(open(result_file))
    phi = torch.stack([f_grad(model, params, ids, mask, output, scale) for ids, mask in opts]).numpy()
    if dim > 0:
        phi = phi @ projection(phi.shape[1], dim, seed) / math.sqrt(dim)
    k = phi @ phi.T
    by_q = {}
    for i, m in enumerate(meta):
        by_q.setdefault(m["question"], []).append(i)

    def rows(qs):
        return [i for q in qs for i in by_q[q]]

    def accuracy(train, test, lam):
        tr, te = rows(train), rows(test)
        y = np.array([meta[i]["label"] for i in tr], dtype=float)
        ktt = k[np.ix_(tr, tr)]
        alpha = np.linalg.solve(ktt + lam * np.mean(np.diag(ktt)) * np.eye(len(tr)), y)
        s = dict(zip(te, k[np.ix_(te, tr)] @ alpha))
        right = 0
        for q in test:
            scores = [s[i] for i in by_q[q]]
            best = int(np.argmax(scores))  # first maximum: ties go to the lowest index
            right += meta[by_q[q][best]]["label"] == 1
        return right / len(test)

    split = res["split"]
    val = [accuracy(split["fit"], split["val"], lam) for lam in res["lambdas"]]
    best = max(val)
    lam = max(l for l, a in zip(res["lambdas"], val) if a == best)
    train = sorted(split["fit"] + split["val"])
    return {"val_accuracy": val, "lambda": lam, "entk_accuracy": accuracy(train, split["test"], lam)}


def main(argv):
    what = argv[1]
    if what == "fidelity":
        model, adapter, data, dim, seed, scale = argv[2:8]
        out = fidelity(model, adapter, data, int(dim), int(seed), float(scale))
    elif what == "stability":
        model, data, output, scale, dim, seed = argv[2:8]
        out = stability(model, data, output, float(scale), int(dim), int(seed), argv[8:])
    elif what == "entk":
        model, adapter, options, result, output, scale, dim, seed = argv[2:10]
        out = entk(model, adapter, options, result, output, float(scale), int(dim), int(seed))
    else:
        raise SystemExit(f"unknown reference {what}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
