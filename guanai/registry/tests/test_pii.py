from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings

from conftest import client_for, make_id_number, make_user
from guanai import privacy
from guanai.audit.models import AccessEvent
from guanai.lib import crypto, idnumber
from guanai.registry.models import Child


@pytest.fixture(autouse=True)
def _fresh_keys():
    privacy.reset_caches()
    yield
    privacy.reset_caches()


def test_id_numbers_are_stored_encrypted_with_a_blind_index_and_a_mask(children):
    child = children["village"]
    plain = privacy.reveal(child.id_number_enc)
    assert plain not in child.id_number_enc
    assert child.id_number_mask == plain[:6] + "********" + plain[-4:]
    assert Child.objects.get(id_number_bidx=privacy.id_bidx(plain)) == child


def test_lookup_by_blind_index_tolerates_case_and_full_width(children):
    plain = privacy.reveal(children["village"].id_number_enc)
    typed = plain.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    assert privacy.id_bidx(typed) == privacy.id_bidx(plain)


def test_the_mask_is_what_lists_show(cast, children):
    plain = privacy.reveal(children["village"].id_number_enc)
    body = client_for(cast["alice"]).get("/api/v1/children/").content.decode()
    assert plain not in body
    assert children["village"].id_number_mask in body


def test_revealing_is_audited_and_only_for_roles_that_may(cast, children):
    child = children["village"]
    plain = privacy.reveal(child.id_number_enc)
    response = client_for(cast["alice"]).post(f"/api/v1/children/{child.pk}/reveal/", {"field": "id_number"})
    assert response.json() == {"field": "id_number", "value": plain}
    event = AccessEvent.objects.get(action="child.reveal")
    assert (event.actor, event.object_id, event.field) == (cast["alice"], str(child.pk), "id_number")

    partner = make_user("partner_police")
    refused = client_for(partner).post(f"/api/v1/children/{child.pk}/reveal/", {"field": "id_number"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert AccessEvent.objects.filter(action="child.reveal").count() == 1


def test_the_page_reveal_button_returns_the_number_and_records_it(cast, children):
    child = children["village"]
    response = client_for(cast["alice"]).post(f"/children/{child.pk}/reveal/", HTTP_HX_REQUEST="true")
    assert privacy.reveal(child.id_number_enc) in response.content.decode()
    assert AccessEvent.objects.filter(action="child.reveal", actor=cast["alice"]).exists()


def test_keys_rotate_without_losing_data(children, settings):
    plain = {c.pk: privacy.reveal(c.id_number_enc) for c in children.values()}
    old = settings.GUANAI_FIELD_KEYS
    new_spec = crypto.new_key_spec("9")
    with override_settings(GUANAI_FIELD_KEYS=f"{new_spec},{old}"):
        privacy.reset_caches()
        call_command("pii", "rotate-keys")
        for child in Child.objects.all():
            assert child.id_number_enc.startswith("9:")
        # The old key can now be dropped.
        with override_settings(GUANAI_FIELD_KEYS=new_spec):
            privacy.reset_caches()
            assert {c.pk: privacy.reveal(c.id_number_enc) for c in Child.objects.all()} == plain


def test_a_changed_blind_index_key_is_recomputed_by_reindex(children):
    child = children["village"]
    plain = privacy.reveal(child.id_number_enc)
    with override_settings(GUANAI_BLIND_INDEX_KEY=crypto.new_key_spec("x").split(":", 1)[1]):
        privacy.reset_caches()
        assert not Child.objects.filter(id_number_bidx=privacy.id_bidx(plain)).exists()
        call_command("pii", "reindex")
        assert Child.objects.get(id_number_bidx=privacy.id_bidx(plain)) == child


def test_a_tampered_token_fails_loudly():
    ring = crypto.KeyRing.parse(crypto.new_key_spec("1"))
    token = ring.encrypt("500101200001011234")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(crypto.DecryptionError):
        ring.decrypt(tampered)


@pytest.mark.parametrize("spec", ["", "nokey", "1:short", "1:" + "!" * 44, "a-b:" + "A" * 43])
def test_malformed_key_settings_are_operator_errors(spec):
    with pytest.raises(crypto.KeyConfigError):
        crypto.KeyRing.parse(spec)


class TestIdNumbers:
    def test_a_valid_number_yields_birth_date_and_sex(self):
        number = make_id_number("500230", dt.date(2015, 3, 7), male=False)
        parsed = idnumber.parse(number)
        assert (parsed.birth_date, parsed.sex, parsed.place_code) == (dt.date(2015, 3, 7), "F", "500230")

    def test_a_lower_case_x_and_full_width_digits_are_accepted(self):
        body = "50023020150307001"
        number = body + idnumber.check_digit(body)
        wide = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９x"))
        assert idnumber.parse(" " + wide + " ").value == number

    def test_a_wrong_check_digit_is_an_error(self):
        body = "50023020150307001"
        wrong = "0" if idnumber.check_digit(body) != "0" else "1"
        with pytest.raises(idnumber.IdNumberError) as err:
            idnumber.parse(body + wrong)
        assert err.value.code == "id_checksum"
        assert "校验位" in err.value.message

    def test_an_impossible_birth_date_is_an_error(self):
        body = "50023020150230001"
        with pytest.raises(idnumber.IdNumberError) as err:
            idnumber.parse(body + idnumber.check_digit(body))
        assert err.value.code == "id_birth_date"

    @pytest.mark.parametrize("raw", ["", "12345", "50023020150307001Y", "50023020150307001234"])
    def test_malformed_numbers_are_errors_with_chinese_messages(self, raw):
        with pytest.raises(idnumber.IdNumberError) as err:
            idnumber.parse(raw)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)

    def test_a_place_code_that_no_longer_exists_is_only_a_warning(self):
        body = "50010519900101001"  # 江北区, merged into 两江新区
        parsed = idnumber.parse(body + idnumber.check_digit(body))
        assert parsed.place_code == "500105"

    def test_an_unknown_place_code_is_a_warning_not_a_rejection(self):
        body = "99999920150307001"
        parsed = idnumber.parse(body + idnumber.check_digit(body))
        assert parsed.warnings

    def test_a_legacy_15_digit_number_is_upgraded(self):
        parsed = idnumber.parse("500230800101001")
        assert parsed.value.startswith("50023019800101001")
        assert parsed.birth_date == dt.date(1980, 1, 1)

    def test_masks(self):
        assert idnumber.mask("50010120150307123X") == "500101********123X"
        assert idnumber.mask_phone("13812345678") == "138****5678"


def test_a_place_code_missing_from_stdnums_table_is_a_warning_not_a_crash():
    parsed = idnumber.parse("111000000101000")
    assert parsed.warnings
