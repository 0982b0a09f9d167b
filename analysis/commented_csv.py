"""CSV tables as hgca writes them: `#` comment lines (the command, the machine) before and between the rows."""
import csv


def read_commented_csv(path):
    """A csv.DictReader over the file's lines that are neither blank nor `#` comments (its fieldnames are the
    header's, None for an empty table)."""
    with open(path, newline="") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    return csv.DictReader(lines)
