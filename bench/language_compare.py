"""Language detection on short SMS texts: our word lists against the offline libraries installed.

Reads ``bench/language_sample.csv`` (``text,language``: the language to answer in, or ``none``
for a text that says nothing), runs every method it finds installed, each in a child process of
its own so that its memory is its own, and prints per method: accuracy per language (None is
right only where the label is ``none``; a wrong language is wrong, confident or not), overall
accuracy, the share of en/es texts it was confident on (ours only), microseconds per text, the
resident memory the method added (import and build) and the size of its installed package.

    python bench/language_compare.py [--sample bench/language_sample.csv] [--repeat 20]

Candidates, all offline (models inside the package): ``lingua-language-detector`` (restricted to
our languages; it has no Haitian Creole), ``langid`` (restricted with ``set_languages``) and
``langdetect`` (cannot be restricted; seeded for repeatable answers). Install one to measure it
(``pip install lingua-language-detector``); the project itself depends on none of them.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("en", "es", "zh", "vi", "tl", "ar", "fr", "ht", "pt", "ko", "ru")

Detector = Callable[[str], tuple[str | None, bool | None]]


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _tree_size(package: str) -> int:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return 0
    origin = Path(spec.origin)
    if origin.name != "__init__.py":
        return origin.stat().st_size
    return sum(p.stat().st_size for p in origin.parent.rglob("*") if p.is_file())


def _wordlists() -> tuple[Detector, int]:
    from hotline.domain.language import detect

    def run(text: str) -> tuple[str | None, bool | None]:
        found = detect(text)
        return found.language, found.confident

    return run, (ROOT / "hotline/domain/language.py").stat().st_size


def _lingua() -> tuple[Detector, int]:
    from lingua import Language, LanguageDetectorBuilder

    wanted = [lang for lang in Language.all() if lang.iso_code_639_1.name.lower() in OURS]
    detector = LanguageDetectorBuilder.from_languages(*wanted).with_preloaded_language_models()
    built = detector.build()

    def run(text: str) -> tuple[str | None, bool | None]:
        found = built.detect_language_of(text)
        return (found.iso_code_639_1.name.lower() if found else None), None

    return run, _tree_size("lingua")


def _langid() -> tuple[Detector, int]:
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=False)
    identifier.set_languages(list(OURS))

    def run(text: str) -> tuple[str | None, bool | None]:
        return identifier.classify(text)[0], None

    return run, _tree_size("langid") + _tree_size("numpy")


def _langdetect() -> tuple[Detector, int]:
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0

    def run(text: str) -> tuple[str | None, bool | None]:
        try:
            found = detect(text)
        except LangDetectException:
            return None, None
        return found.split("-")[0], None

    return run, _tree_size("langdetect")


METHODS: dict[str, tuple[str | None, Callable[[], tuple[Detector, int]]]] = {
    "wordlists": (None, _wordlists),
    "lingua": ("lingua", _lingua),
    "langid": ("langid", _langid),
    "langdetect": ("langdetect", _langdetect),
}


def measure(method: str, sample: list[tuple[str, str]], repeat: int) -> dict[str, object]:
    """Accuracy per label, timing and memory of one method, in this process."""
    if method == "wordlists":
        # The hotline package (Flask and all) is loaded by the app anyway: not the method's cost.
        sys.path.insert(0, str(ROOT))
        importlib.import_module("hotline.domain.keywords")
    before = _rss_kib()
    run, size = METHODS[method][1]()
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    confident = 0
    for text, label in sample:
        language, sure = run(text)
        total[label] += 1
        if language == (None if label == "none" else label):
            right[label] += 1
            confident += bool(sure) and label in ("en", "es")
    added = _rss_kib() - before
    texts = [text for text, _ in sample]
    start = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            run(text)
    elapsed = time.perf_counter() - start
    return {
        "accuracy": {label: right[label] / total[label] for label in total},
        "overall": sum(right.values()) / len(sample),
        "confident_en_es": confident / (total["en"] + total["es"]),
        "us_per_text": elapsed / (repeat * len(texts)) * 1e6,
        "rss_mib": added / 1024,
        "package_mib": size / 2**20,
        "reports_confidence": method == "wordlists",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=Path, default=ROOT / "bench/language_sample.csv")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--method", help=argparse.SUPPRESS)  # the child process's own run
    args = parser.parse_args()
    with args.sample.open(encoding="utf-8", newline="") as sample_file:
        sample = [(row["text"], row["language"]) for row in csv.DictReader(sample_file)]
    if args.method:
        print(json.dumps(measure(args.method, sample, args.repeat)))
        return

    labels = sorted(Counter(label for _, label in sample).items(), key=lambda i: -i[1])
    print(f"{len(sample)} texts: " + ", ".join(f"{label} {n}" for label, n in labels))
    print(f"{'method':<11}" + "".join(f"{label:>6}" for label, _ in labels) + "  overall"
          "  conf.en/es  µs/text  +RSS MiB  package MiB")  # fmt: skip
    for method, (package, _) in METHODS.items():
        if package is not None and importlib.util.find_spec(package) is None:
            print(f"{method:<11}  (not installed)")
            continue
        child = subprocess.run(
            [sys.executable, __file__, "--sample", str(args.sample), "--method", method,
             "--repeat", str(args.repeat if method != "langdetect" else 1)],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        result = json.loads(child.stdout.strip().splitlines()[-1])
        accuracy = result["accuracy"]
        confident = f"{result['confident_en_es']:.3f}" if result["reports_confidence"] else "-"
        print(
            f"{method:<11}"
            + "".join(f"{accuracy.get(label, 0.0):>6.3f}" for label, _ in labels)
            + f"  {result['overall']:>7.3f}  {confident:>10}  {result['us_per_text']:>7.1f}"
            + f"  {result['rss_mib']:>8.1f}  {result['package_mib']:>11.2f}"
        )


if __name__ == "__main__":
    main()
