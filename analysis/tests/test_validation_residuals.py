import io

import pytest

from analysis import validation_residuals as vr

HEADER = ("id,role,kind,model,batch,q_heads,kv_heads,head_dim,context,window,cpu_select,threads,cpu_task,"
          "measured_ms,predicted_ms,error,measured_cpu_attention_ms,predicted_cpu_attention_ms,cpu_attention_error\n")


def row(i, batch, head_dim, context, window, sel, threads, measured, predicted, cpu_m, cpu_p, kind="attention"):
    return (f"{i},fit,{kind},,{batch},16,4,{head_dim},{context},{window},{sel},{threads},kv_group,"
            f"{measured},{predicted},0,{cpu_m},{cpu_p},0\n")


def write(tmp_path, *rows, header=HEADER):
    f = tmp_path / "predict.csv"
    f.write_text("# predicted by a test\n" + header + "".join(rows))
    return str(f)


def test_pool_rows_and_errors_by_hand(tmp_path):
    # 1 x 4 KV heads x 64 x 2 B x (K, V) x 4096 pool rows = 4 MiB; 1 x 16 heads x 64 rows / 4 threads = 256 rows.
    f = write(tmp_path, row(0, 1, 64, 8192, 4096, 64, 4, 0.1, 0.08, 0.05, 0.03),
              row(1, 1, 64, 8192, 4096, 64, 4, 1.0, 1.0, 1.0, 1.0, kind="decode-step"))
    (p,) = vr.read_points(f)  # the decode step is left out
    assert p["pool_mib"] == pytest.approx(4.0)
    assert p["rows_per_thread"] == pytest.approx(256)
    assert p["errors"]["step"] == pytest.approx(-0.2)
    assert p["errors"]["cpu_attention"] == pytest.approx(-0.4)
    assert "merge" not in p["errors"]  # no such columns


def test_groups_split_small_pools_from_large_against_the_cache(tmp_path):
    small = [row(i, 1, 64, 8192, 4096, 64, 4, 0.1, 0.1 * (1 + e), 0.05, 0.05 * (1 + 2 * e))
             for i, e in enumerate((-0.3, -0.2, -0.1))]
    large = [row(10 + i, 16, 128, 131072, 4096, 1024, 15, 1.0, 1.0 + e, 0.9, 0.9 * (1 + e))
             for i, e in enumerate((0.05, 0.1))]
    points = vr.read_points(write(tmp_path, *small, *large))
    pool = vr.grouped(points, lambda p: vr.pool_bin(p, 50), "pool_mib", "cpu_attention")
    assert list(pool) == ["pool <= cache", "pool > 4x cache"]  # ordered by pool size
    n, step, step_abs, cpu, cpu_abs = pool["pool <= cache"]
    assert (n, step, step_abs, cpu, cpu_abs) == pytest.approx((3, -0.2, 0.2, -0.4, 0.4))
    n, step, _, cpu, _ = pool["pool > 4x cache"]
    assert (n, step, cpu) == pytest.approx((2, 0.075, 0.075))
    threads = vr.grouped(points, lambda p: f"threads {p['threads']}", "threads", "cpu_attention")
    assert list(threads) == ["threads 4", "threads 15"]  # numeric, not string, order
    out = io.StringIO()
    vr.report(points, llc_mib=50, worst=2, out=out)
    text = out.getvalue()
    assert "5 attention points" in text
    worst = text.split("miss most")[1].splitlines()[1:]
    assert worst[0].split()[0] == "0" and worst[1].split()[0] == "1"  # -30 % then -20 %


def test_bad_tables_are_one_line_and_exit_2(tmp_path, capsys):
    f = write(tmp_path, row(0, 1, 64, 8192, 4096, 64, 4, 0.1, 0.1, 0.05, 0.05), header=HEADER.replace("threads,", "thr,"))
    assert vr.main([f]) == 2
    err = capsys.readouterr().err.strip()
    assert "column 'threads' missing" in err and f in err and "\n" not in err
    f = write(tmp_path, row(0, 1, 64, 8192, 4096, 64, 4, 0.0, 0.1, 0.05, 0.05))
    assert vr.main([f]) == 2
    err = capsys.readouterr().err
    assert "point 0" in err and "measured_ms" in err
    f = write(tmp_path, row(0, 1, 64, 8192, 4096, "x", 4, 0.1, 0.1, 0.05, 0.05))
    assert vr.main([f]) == 2
    assert vr.main([str(tmp_path / "absent.csv")]) == 2
    f = write(tmp_path, row(0, 1, 64, 8192, 4096, 64, 4, 0.1, 0.1, 0.05, 0.05))
    assert vr.main([f, "--llc-mib", "0"]) == 2
    assert vr.main([f, "--llc-mib", "50"]) == 0
