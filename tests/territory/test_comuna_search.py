"""Finding a comuna as people type it, and Spanish order."""

from __future__ import annotations

from app.territory.search import comuna_index, fold, spanish_key


def test_typing_without_accents_finds_the_accented_comuna():
    assert [e.name for e in comuna_index().search("nunoa")] == ["Ñuñoa"]
    assert comuna_index().resolve("PENALOLEN")[0].code == "13122"
    assert comuna_index().resolve("  concepcion ")[0].code == "08101"


def test_fold_treats_accents_case_and_punctuation_alike():
    assert fold("Ñuñoa") == fold("nunoa") == fold("NUÑOA") == "nunoa"
    assert fold("O'Higgins") == "o higgins"


def test_a_cut_code_names_its_comuna():
    assert comuna_index().resolve("13120")[0].name == "Ñuñoa"


def test_an_ambiguous_beginning_offers_candidates_in_spanish_order():
    comuna, candidates = comuna_index().resolve("san")
    assert comuna is None
    names = [c.name for c in candidates]
    assert names[:3] == ["San Antonio", "San Bernardo", "San Carlos"]


def test_an_exact_name_wins_over_longer_names_starting_with_it():
    comuna, _ = comuna_index().resolve("chillan")
    assert comuna is not None and comuna.name == "Chillán"


def test_unknown_text_finds_nothing():
    assert comuna_index().resolve("xyzzy") == (None, [])
    assert comuna_index().search("   ") == []


def test_enye_sorts_after_n_and_before_o():
    names = ["Vitacura", "Ñuñoa", "Olmué", "Nogales", "Ñiquén", "Nancagua", "Álamos"]
    assert sorted(names, key=spanish_key) == ["Álamos", "Nancagua", "Nogales", "Ñiquén", "Ñuñoa", "Olmué",
                                               "Vitacura"]


def test_the_index_holds_the_346_comunas_in_spanish_order():
    names = [e.name for e in comuna_index().entries]
    assert len(names) == 346
    assert names.index("Nueva Imperial") < names.index("Ñuñoa") < names.index("O'Higgins")


def test_nearby_lists_the_same_province_first_then_the_region():
    around = comuna_index().nearby("13120")  # Ñuñoa, provincia de Santiago
    provinces = [e.province for e in around]
    first_other = next(i for i, p in enumerate(provinces) if p != "Santiago")
    assert all(p == "Santiago" for p in provinces[:first_other])
    assert all(p != "Santiago" for p in provinces[first_other:])
    assert all(e.region_code == "13" for e in around)
    assert "13120" not in {e.code for e in around}
