"""A rate typed as a bare number (0.5) is read as a share (50%), though a cadre may have meant 0.5%: it
is accepted as before (DOMAIN names no other reading) and said back as read, on the command line and
on the case page, with how to put it right; a rate typed with its % sign is not."""
from __future__ import annotations

from tests.test_project_figures import ok
from tests.test_words46 import village_case

PROFILE = ["--field", "year=2018", "--field", "poor_persons=40", "--field", "per_capita_income=3000",
           "--field", "provincial_income=12000", "--field", "collective_income=0"]


def test_a_bare_rate_is_said_back_as_read_on_the_command_line(world):
    case = village_case(world)
    out = ok(world, "vs", "evidence", "add", case, "village_profile", *PROFILE, "--field", "provincial_incidence=0.5")
    assert "「全省贫困发生率」填的是 0.5，已按比例读作 50%" in out and "改填 0.5%" in out, out
    english = ok(world, "vs", "--lang", "en", "evidence", "add", case, "village_profile", *PROFILE,
                 "--field", "provincial_incidence=0.02", "--replace", "--reason", "typo")
    assert "0.02 was read as a share, 2%" in english, english
    signed = ok(world, "vs", "evidence", "add", case, "village_profile", *PROFILE,
                "--field", "provincial_incidence=0.5%", "--replace", "--reason", "改为百分数")
    assert "读作" not in signed, signed


def test_a_bare_rate_is_said_back_as_read_on_the_case_page(world, world_clients):
    case = village_case(world)
    page, _api = world_clients
    client = page("vs")
    form = {"csrf": client.csrf, "type": "village_profile", "f_year": "2018", "f_poor_persons": "40",
            "f_per_capita_income": "3000", "f_provincial_income": "12000", "f_collective_income": "0",
            "f_provincial_incidence": "0.5"}
    added = client.post(f"/cases/{case}/evidence", data=form, headers={"HX-Request": "true"})
    assert added.status_code == 200, added.text
    assert "已按比例读作 50%" in added.text and "改填 0.5%" in added.text
