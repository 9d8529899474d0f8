#!/usr/bin/env python3
"""Converts the reference chips.csv (docs/reference/chips.csv) into the bundled store's seed,
data/seed/chips.json: one chip interchange object per row (DESIGN.md).

Rules (issue 2): unknown figures stay null; the row's sources are stored as row sources
(field "*"), never invented per figure; `fp16_bf16` is the 16-bit tensor rate, given as BF16
too except for parts without BF16 (V100, T4); a `dc` of "?" is null. Where a figure is parsed
out of free text (memory "16/32GB", reported TPP "15,832 [EPOCH]; 15,831 [SA]") the seed says
how, as a per-field source.

Corrections from later audits live beside this script in chips_audit.json (each with its
source); they are applied after the CSV is read, so the reference table stays as published.
An entry may also add "alternatives": other sources' values of a figure that the reference
table names beside the one it gives (H800 I/O 300 GB/s), each with its citation.

Run: python3 data/seed/tools/reference_csv_to_seed.py docs/reference/chips.csv > data/seed/chips.json
"""
import csv
import json
import os
import re
import sys

NO_BF16 = {"V100 SXM2 (16/32GB)", "T4"}


def num(text):
    text = text.strip().replace(",", "")
    return float(text) if text else None


def clean(value):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def main(path):
    chips = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            name = row["model"].strip()
            dc = {"Y": True, "N": False}.get(row["dc"].strip())  # "?" -> None
            rates = {}
            for key, col in (("fp64", "fp64"), ("fp32", "fp32"), ("tf32", "tf32"),
                             ("fp8", "fp8"), ("int8", "int8"), ("fp4", "fp4")):
                v = num(row[col])
                if v is not None:
                    rates[key] = clean(v)
            r16 = num(row["fp16_bf16"])
            if r16 is not None:
                rates["fp16"] = clean(r16)
                if name not in NO_BF16:
                    rates["bf16"] = clean(r16)
            rates = {k: rates[k] for k in
                     ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4") if k in rates}
            confidence = row["confidence"].strip()
            sources = [{"field": "*", "citation": row["sources"].strip(), "confidence": confidence}]
            memory_gb = None
            mem = row["memory"].strip()
            m = re.match(r"([\d./-]+)\s*GB", mem)
            if m:
                parts = [float(x) for x in re.split(r"[/-]", m.group(1)) if x]
                memory_gb = clean(max(parts))
                if len(parts) > 1:
                    sources.append({"field": "memory_capacity_gb",
                                    "citation": f"reference memory column \"{mem}\": largest variant",
                                    "confidence": confidence})
            tpp_reported = None
            rep = row["tpp_reported"].strip()
            m = re.match(r"([\d,]+(?:\.\d+)?)\s*\[", rep)
            if m:
                tpp_reported = clean(num(m.group(1)))
                sources.append({"field": "tpp_reported", "citation": f"reference tpp_reported column \"{rep}\": first figure",
                                "confidence": confidence})
            chip = {
                "name": name,
                "vendor": row["vendor"].strip(),
                "year": int(row["year"]) if row["year"].strip() else None,
                "kind": "logic",
                "datacenter": dc,
                "dense_tops": rates,
                "applicable_die_area_mm2": clean(num(row["die_mm2"])),
                "memory_capacity_gb": memory_gb,
                "memory_bandwidth_gb_per_s": clean(num(row["mem_bw_GBs"])),
                "io_bidirectional_gb_per_s": clean(num(row["chip_io_GBs"])),
                "tdp_w": clean(num(row["tdp_W"])),
                "tpp_reported": tpp_reported,
                "notes": row["status_notes"].strip() or None,
                "sources": sources,
            }
            chips.append(chip)
    apply_audit(chips, os.path.join(os.path.dirname(os.path.abspath(__file__)), "chips_audit.json"))
    json.dump(chips, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


RATE_ORDER = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4")


def apply_audit(chips, path):
    """Applies the sourced corrections of chips_audit.json; a correction naming no chip, or
    setting an unknown field, is an error (the audit must not silently stop applying)."""
    with open(path, encoding="utf-8") as f:
        audit = json.load(f)
    by_name = {c["name"]: c for c in chips}
    for fix in audit["corrections"]:
        chip = by_name.get(fix["name"])
        if chip is None:
            sys.exit(f"chips_audit.json: no chip named {fix['name']!r} in the reference table")
        if not fix.get("sources") and not fix.get("alternatives"):
            sys.exit(f"chips_audit.json: the correction of {fix['name']!r} cites no source")
        for alt in fix.get("alternatives", []):
            if set(alt) - {"field", "value", "citation", "confidence"} or not alt.get("citation"):
                sys.exit(f"chips_audit.json: an alternative of {fix['name']!r} is malformed or uncited")
        for key, value in fix.get("set", {}).items():
            if key == "dense_tops":
                rates = dict(chip["dense_tops"], **value)
                chip["dense_tops"] = {k: rates[k] for k in RATE_ORDER if k in rates}
            elif key in chip and key not in ("name", "sources", "notes"):
                chip[key] = value
            else:
                sys.exit(f"chips_audit.json: {fix['name']!r} sets unknown field {key!r}")
        if fix.get("notes_append"):
            chip["notes"] = (chip["notes"] + "; " if chip["notes"] else "") + fix["notes_append"]
        chip["sources"].extend(fix.get("sources", []))
        if fix.get("alternatives"):
            chip.setdefault("alternatives", []).extend(fix["alternatives"])


if __name__ == "__main__":
    main(sys.argv[1])
