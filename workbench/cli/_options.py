"""Argument types shared by subcommands: `batch=8,seq=128`, `input=1x512,mask=1x512`, lists."""

from __future__ import annotations

import argparse


def key_values(text: str) -> dict[str, int]:
    """`batch=8,seq=128` -> {"batch": 8, "seq": 128}."""
    result: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.rpartition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(
                f"expected NAME=SIZE, got {item!r} (e.g. batch=8,seq=128)"
            )
        result[name] = _int(value, item)
    return result


def shapes(text: str) -> dict[str, list[int]]:
    """`input=1x512,mask=1x512` -> {"input": [1, 512], "mask": [1, 512]}."""
    result: dict[str, list[int]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.rpartition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(
                f"expected NAME=AxBxC, got {item!r} (e.g. input=1x512)"
            )
        result[name] = [_int(d, item) for d in value.split("x")] if value else []
    return result


def names(text: str) -> list[str]:
    """`cpu,cuda` -> ["cpu", "cuda"]."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _int(value: str, item: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} in {item!r} is not a whole number") from None


def add_shape_options(parser: argparse.ArgumentParser) -> None:
    """--dims, --shapes, --batch and --seed, as run/compare/bench share them."""
    parser.add_argument(
        "--dims",
        type=key_values,
        metavar="NAME=SIZE,...",
        help="sizes of symbolic dims, e.g. batch=8,seq=128",
    )
    parser.add_argument(
        "--shapes",
        type=shapes,
        metavar="INPUT=AxB,...",
        help="whole shapes per input, e.g. input_ids=1x512",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of synthetic feeds (default 0)")
