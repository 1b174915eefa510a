from guanai.oversight import suppression


def test_it_suppresses_counts_of_one_to_four_only_when_shared():
    assert [suppression.count(n, shared=True) for n in (0, 1, 4, 5, 17)] == [0, "<5", "<5", 5, 17]
    assert suppression.count(3, shared=False) == 3


def test_it_withholds_rates_that_would_reveal_a_small_group():
    assert suppression.rate(3, 4, shared=True) == "—"  # denominator under 5
    assert suppression.rate(2, 50, shared=True) == "—"  # 2 children
    assert suppression.rate(48, 50, shared=True) == "—"  # the 2 not contacted are as identifiable
    assert suppression.rate(0, 50, shared=True) == 0.0
    assert suppression.rate(25, 50, shared=True) == 50.0
    assert suppression.rate(3, 4, shared=False) == 75.0
    assert suppression.rate(1, 0, shared=True) is None


def test_snapshot_rows_about_children_are_suppressed_others_not():
    row = {"numerator": 3, "denominator": 40, "value": 7.5, "unit": "rate", "subject": "children"}
    assert suppression.snapshot_row(row, shared=True) == {**row, "numerator": "<5", "value": "—"}
    villages = {**row, "subject": "villages"}
    assert suppression.snapshot_row(villages, shared=True) == villages
    assert suppression.snapshot_row(row, shared=False) == row


def test_roles_outside_the_civil_affairs_line_are_shared_views():
    class U:
        def __init__(self, role):
            self.role = role

    assert suppression.is_shared(U("partner_education"))
    assert suppression.is_shared(U("social_worker"))
    assert not suppression.is_shared(U("district_officer"))
    assert not suppression.is_shared(U("city_officer"))
