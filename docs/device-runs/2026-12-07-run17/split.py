#!/usr/bin/env python3
"""Splits run 17's one table of every point (fit and holdout rows interleaved in each pass) into the two tables
docs/device-runs/2026-12-05-run7/analyze.sh reads, D/A/fit-A.csv and D/A/holdout-A.csv; with PASS, each row's
total_ms (and pass_ms) is that pass's median alone (phase times stay pooled over the passes).

  /usr/bin/python3 split.py points/points.csv D [PASS]
"""
import csv
import os
import sys


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    src, dest = sys.argv[1], sys.argv[2]
    which = int(sys.argv[3]) if len(sys.argv) == 4 else None
    lines = open(src).read().splitlines()
    header = lines[1].split(',')
    os.makedirs(os.path.join(dest, 'A'), exist_ok=True)
    for role in ('fit', 'holdout'):
        with open(os.path.join(dest, 'A', f'{role}-A.csv'), 'w') as out:
            note = f' (pass {which} alone)' if which else ''
            out.write(lines[0] + f'; split by role from {src}{note}\n' + lines[1] + '\n')
            w = csv.writer(out, lineterminator='\n')
            for r in csv.reader(lines[2:]):
                row = dict(zip(header, r))
                if row['role'] != role:
                    continue
                if which:
                    row['total_ms'] = row['pass_ms'] = row['pass_ms'].split()[which - 1]
                w.writerow([row[h] for h in header])


if __name__ == '__main__':
    main()
