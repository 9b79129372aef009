"""The markdown table of scripts/benchmark.py's results."""

from __future__ import annotations

# The tutorial's in-memory expansion holds, per word of every training caption, a float32 copy of the photo
# vector, the padded prefix and a one-hot float32 target: computed for the memory rows, never run.
VOCAB, PREFIX = 3000, 35


def _ratio(a, b) -> str:
    return f"{a / b:,.1f}x" if a and b else "-"


def reference_in_memory_gb(captions: int, words_per_caption: float = 14.0) -> float:
    samples = captions * 0.9 * words_per_caption  # the 90% train split
    return samples * (4096 * 4 + PREFIX * 4 + VOCAB * 4) / 2**30


def render(r: dict) -> str:
    lines = [f"Machine: {r['machine']}. Dataset: {r['dataset']}.", "",
             "| measure | project | reference recipe | project / reference |", "| --- | --- | --- | --- |"]
    p, q = r["project_same_epochs"], r["reference_same_epochs"]
    lines.append(f"| training seconds per epoch | {p['seconds_per_epoch']} | {q['seconds_per_epoch']} | "
                 f"{_ratio(q['seconds_per_epoch'], p['seconds_per_epoch'])} faster |")
    for label in ("same_epochs", "early_stop"):
        p, q = r[f"project_{label}"], r[f"reference_{label}"]
        what = f"after {p['epochs']} epochs" if label == "same_epochs" else \
            f"at early stopping ({p['epochs']} vs {q['epochs']} epochs)"
        lines.append(f"| test BLEU-4 (greedy) {what} | {p['test_bleu_greedy']['bleu4']:.4f} | "
                     f"{q['test_bleu_greedy']['bleu4']:.4f} | {_ratio(p['test_bleu_greedy']['bleu4'], q['test_bleu_greedy']['bleu4'])} |")
    for key, title in (("generation", "trained on this dataset"),
                       ("generation_flickr8k_vocab", "Flickr8k-sized vocabulary (3,000 words, 34-word captions, untrained)")):
        if key not in r:
            continue
        g = r[key]
        ref = r.get("reference_trained_greedy_b1") if key == "generation" else g["reference_greedy_b1"]
        for name, rate in g["project"].items():
            lines.append(f"| {name.replace('_b', ' captions/s, batch ')} ({title}) | {rate:,.1f} | "
                         f"{ref} (greedy, batch 1) | {_ratio(rate, ref)} |")
    for n, m in r.get("memory", {}).items():
        lines.append(f"| peak memory, 1 training epoch, {int(n):,} images x 5 captions | {m['peak_rss_mb']:,.0f} MB "
                     f"(cache file {m['cache_mb']:,.0f} MB) | {reference_in_memory_gb(m['captions']):,.1f} GB "
                     f"(in-memory expansion, computed) | - |")
    if "extract" in r:
        e = r["extract"]
        lines.append(f"| extraction images/s ({e['images']} images, batch {e['batch_size']}) | "
                     f"{e['extract_images_per_s']} | {e['bare_forward_images_per_s']} (bare VGG16 loop) | "
                     f"{e['ratio']:.2f}x |")
    return "\n".join(lines)
