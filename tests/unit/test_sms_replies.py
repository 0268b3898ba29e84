"""What an usager's SMS reply asks for (``domain.sms_replies``)."""

import pytest

from services.notifications.domain.sms_replies import SmsRequest, sms_request


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit!",
        "ARRET",
        "Arrêt ",
        "arrêt…",
        "«ARRÊT»",
    ],
)
def test_stop_words_opt_out(body):
    assert sms_request(body) is SmsRequest.OPT_OUT


@pytest.mark.parametrize("body", ["START", "start", " Unstop ", "yes!"])
def test_start_words_opt_in(body):
    assert sms_request(body) is SmsRequest.OPT_IN


@pytest.mark.parametrize("body", ["", "Merci", "OUI", "stop les rappels svp", "STOP STOP", "s t o p", "arrête"])
def test_anything_else_asks_for_nothing(body):
    assert sms_request(body) is None


@pytest.mark.parametrize("body", ["ANNULER", "annuler", " Annulé. ", "ANNULEZ!", "annulation"])
def test_annuler_asks_to_cancel(body):
    assert sms_request(body) is SmsRequest.CANCEL


@pytest.mark.parametrize("body", ["annuler mon rdv de mardi", "je veux annuler", "ANNUL"])
def test_a_sentence_about_cancelling_is_not_taken_for_annuler(body):
    assert sms_request(body) is None
