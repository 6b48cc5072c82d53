"""A cadre's files through `jingzhun --server` (a real server process and real client processes).

- The server's own files: a command whose file the SERVER's disk refused (an export it writes, a
  registry it takes in) said "cannot write <the cadre's own path>: the disk is full, free some space or
  choose another place" - the cadre's own disk blamed, the server's work folder named beside it. Now it
  is said as the server's disk, to be told to its administrator, naming no path of either.
"""
from __future__ import annotations

import sqlite3

from tests.web.test_cli_streaming import client
from tests.web.test_disk_full import exported, serve_work_full
from tests.web.test_serve import stop_server


def _cases(settings) -> int:
    with sqlite3.connect(settings.home / "jingzhun.db") as db:
        return db.execute("SELECT count(*) FROM cases").fetchone()[0]


def test_a_file_the_server_s_own_disk_refuses_is_said_as_the_server_s_not_the_cadre_s(demo_home, tmp_path):
    settings, _ = demo_home
    base, process = serve_work_full(settings)
    try:
        before, cases = exported(settings), _cases(settings)
        out = tmp_path / "成员.xlsx"
        code, said, err, _ = client(settings, base, "county_director", "export", "members", "--xlsx", str(out))
        assert code == 1 and "服务器的磁盘已满" in err and "不是您这台电脑的磁盘" in err, err
        assert "请腾出空间或换一个位置" not in err and str(out) not in err and str(settings.home) not in err
        code, said, err_en, _ = client(settings, base, "county_director", "--lang", "en", "export", "cases",
                                       "--csv", str(tmp_path / "cases.csv"))
        assert code == 1 and "the server's disk is full" in err_en and "Tell the system administrator" in err_en, err_en
        assert "/work/" not in err_en and "cases.csv" not in err_en
        assert not list(tmp_path.iterdir()) and exported(settings) == before     # nothing came, nothing recorded

        registry = tmp_path / "名单.csv"
        registry.write_text("村编码,户编号,姓名,身份证号,与户主关系\n" +
                            "360730100201,H1,某某,360730199001011234,户主\n" * 2000, encoding="utf-8")
        code, said, err, _ = client(settings, base, "county_director", "household", "import", str(registry))
        assert code == 1 and "服务器的磁盘已满" in err and "Traceback" not in err, err
        assert str(settings.home) not in err and _cases(settings) == cases
    finally:
        log = stop_server(process)
    assert "Traceback" not in log
    assert "the server cannot write a file of its own (file.disk_full) running a client's `export`" in log
