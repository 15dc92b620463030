"""include/incident_mail.py against the oracle (testsupport/incidents.py): one message per incident event, in the
oracle's order, with a Message-ID that depends on the event only, and a subject and body an operator can act on."""

from __future__ import annotations

from datetime import datetime

from include import settings
from include.incident_mail import incident_messages
from tests.notify.scenario import incident_rows, readings
from testsupport import oracle
from testsupport.incidents import incidents, messages


def events(rows: list[dict]) -> list[tuple[str, str, datetime]]:
    return [(message.resid, message.event, message.at) for message in incident_messages(incident_rows(rows))]


def test_one_message_per_oracle_event_in_its_order():
    rows = readings()
    assert events(rows) == messages(incidents(rows))
    assert events(rows) == [
        ("P2", "opened", datetime(2014, 3, 10, 0, 4)),
        ("P2", "resolved", datetime(2014, 3, 10, 0, 5)),
        ("P1", "opened", datetime(2014, 3, 10, 0, 10)),
        ("P1", "resolved", datetime(2014, 3, 10, 0, 22)),
        ("P1", "opened", datetime(2014, 3, 10, 0, 50)),
    ]
    recovered = readings(p1_recovers=True)
    assert events(recovered) == messages(incidents(recovered))


def test_the_real_data_sets_events_are_the_oracles(data_dir):
    rows = oracle.readings(data_dir / settings.SENSOR_FILE)
    assert events(rows) == messages(incidents(rows))


def test_message_ids_depend_on_the_incident_event_only():
    before = incident_messages(incident_rows(readings()))
    after = incident_messages(incident_rows(readings(p1_recovers=True)))  # the open incident resolved since
    assert [m.message_id for m in before] == [
        "<P2.2014-03-10T00-04.opened@oil-pump-pipeline>",
        "<P2.2014-03-10T00-04.resolved@oil-pump-pipeline>",
        "<P1.2014-03-10T00-10.opened@oil-pump-pipeline>",
        "<P1.2014-03-10T00-10.resolved@oil-pump-pipeline>",
        "<P1.2014-03-10T00-50.opened@oil-pump-pipeline>",
    ]
    assert [m.message_id for m in after] == [m.message_id for m in before] + [
        "<P1.2014-03-10T00-50.resolved@oil-pump-pipeline>"
    ]
    # A naive or a zoned timestamp is the same event.
    naive = [row | {"opened_at": row["opened_at"].replace(tzinfo=None)} for row in incident_rows(readings())]
    assert [m.message_id for m in incident_messages(naive)] == [m.message_id for m in before]


def test_subject_and_body_of_a_resolved_and_of_an_open_incident():
    by_id = {m.message_id: m for m in incident_messages(incident_rows(readings()))}
    resolved = by_id["<P1.2014-03-10T00-10.resolved@oil-pump-pipeline>"]
    assert resolved.subject == "[oil] P1: low pressure incident resolved 2014-03-10 00:22"
    assert resolved.incident_id == "P1@2014-03-10T00:10"
    assert resolved.body.splitlines() == [
        "Pump P1: low pressure incident resolved.",
        "",
        "Incident:          P1@2014-03-10T00:10",
        "Opened:            2014-03-10 00:10 UTC",
        "Resolved:          2014-03-10 00:22 UTC",
        "Duration:          12 min",
        "Low readings:      4",
        "Minimum psi:       0.0",
        "Pump type:         HYDROPUMP",
        "Vendor:            GENERAL",
        "Last maintenance:  3/1/14, T. Ramirez: Replace seals",
    ]
    still_open = by_id["<P1.2014-03-10T00-50.opened@oil-pump-pipeline>"]
    assert still_open.subject == "[oil] P1: low pressure incident opened 2014-03-10 00:50"
    assert "Resolved:          still open (newest reading 2014-03-10 01:00 UTC)" in still_open.body
    assert "Duration:          10 min so far" in still_open.body
    assert "Low readings:      2" in still_open.body
    p2 = by_id["<P2.2014-03-10T00-04.opened@oil-pump-pipeline>"].body
    assert "Minimum psi:       0.1" in p2 and "Vendor:            MOTION" in p2
    assert "Last maintenance:  none recorded" in p2
