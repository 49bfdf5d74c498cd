#!/usr/bin/env python3
"""Writes the byte-level tokenizer.json of tests/unit/byte_tokenizer.h (the
same JSON: 256 byte tokens, no merges, the chat templates' special tokens as
added tokens) for shell tests, which cannot call the C++ helper."""
import json
import sys


def byte_tokenizer():
    vocab, nxt = {}, 256
    for b in range(256):
        printable = 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255
        cp = b if printable else nxt
        nxt += 0 if printable else 1
        vocab[chr(cp)] = b
    specials = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<|endoftext|>"]
    added = [{"id": 256 + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": "think" not in t} for i, t in enumerate(specials)]
    level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "added_tokens": added, "normalizer": None, "pre_tokenizer": level,
            "post_processor": None, "decoder": dict(level, add_prefix_space=True),
            "model": {"type": "BPE", "vocab": vocab, "merges": [], "ignore_merges": False}}


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(byte_tokenizer(), f, ensure_ascii=False)
