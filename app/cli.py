"""Placeholder CLI; replaced as the spine lands."""


def main() -> None:
    print("shipbridge")
