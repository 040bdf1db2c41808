"""Parses Prometheus text exposition (version 0.0.4) with the official Python client's parser.

Usage: python3 prometheus_text.py < metrics.txt

Prints the metric families as one JSON array: each family's name (counters without their
`_total`, as the parser names them), type, help and samples (name, labels, value). A line the
parser cannot read fails with a non-zero exit. `tests/metrics.rs` asserts on what it prints.
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    families = [
        {
            "name": family.name,
            "type": family.type,
            "help": family.documentation,
            "samples": [
                {"name": s.name, "labels": s.labels, "value": s.value}
                for s in family.samples
            ],
        }
        for family in text_string_to_metric_families(sys.stdin.read())
    ]
    json.dump(families, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
