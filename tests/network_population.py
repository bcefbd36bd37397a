"""A small network for the tests of what leaves it (snapshots, the command line, the browser): two
organisations that share the household form, one that does not, a canary household, and persons
counted so that a table of legal status by province has cells of 1 to 4.

Persons (legal status × province), network-wide:

    ============  ====  ====  ====  =====
                   57    50    63   total
    thai            2     0     0      2
    stateless       9     3     0     12
    pending         0     6     1      7
    total          11     9     1     21
    ============  ====  ====  ====  =====

Households by province: 57: 6, 50: 3, 63: 1. The organisation that does not share ("lakenet") has
six Thai nationals in 63, which would change every one of these figures if they were counted.
"""

from __future__ import annotations

from formserver.accounts import add_member, create_user

from .network_world import household_xml, member, send, sharing_organisation
from .web_fixtures import make_user

CANARY_NAME = "นางสาวคานารีย์ ทดสอบรั่วไหล"
CANARY_MEMBER = "เด็กชายคานารีย์ ไม่ควรออกไป"
CANARY_HEAD_ID = "1579900123457"
CANARY_ID = "2570100999881"
CANARY_REMARK = "ข้อความอิสระคานารีย์ห้ามรั่ว"
CANARY_GPS = "19.912345 99.834567 412.5 4.0"
CANARIES = (CANARY_NAME, CANARY_MEMBER, CANARY_HEAD_ID, CANARY_ID, CANARY_REMARK, "19.912345", "99.834567")
NOT_SHARED = "Organisation lakenet"

PERSONS = {
    ("thai", "57"): 2, ("stateless", "57"): 9, ("stateless", "50"): 3, ("pending", "50"): 6, ("pending", "63"): 1,
}
HOUSEHOLDS = {"57": 6, "50": 3, "63": 1}
# The Network page's query fields for legal status by province, counting persons.
PERSONS_BY_PROVINCE = {"form": "household_visit", "unit": "member", "rows": "legal_status", "columns": "province"}


def fill_network(session, blobs) -> dict[str, int]:
    """The households above, and the people who ask for figures: user ids by name."""
    hill, _ = sharing_organisation(session, blobs, "hillnet")
    river, _ = sharing_organisation(session, blobs, "rivernet")
    lake, _ = sharing_organisation(session, blobs, "lakenet", shared=False)
    households = [
        (hill, "57", [member("นา"), member("คำ")]),
        (hill, "57", [member("แก้ว"), member("ดี")]),
        (hill, "57", [member("มา"), member("ศรี")]),
        (hill, "57", [member("จัน"), member("ปุ๊")]),
        (hill, "57", [member("ไทย", status="thai"), member("สม", status="thai")]),
        (river, "50", [member("หนึ่ง", status="pending"), member("สอง", status="pending"), member("สาม")]),
        (river, "50", [member("สี่", status="pending"), member("ห้า", status="pending"), member("หก")]),
        (river, "50", [member("เจ็ด", status="pending"), member("แปด", status="pending"), member("เก้า")]),
        (river, "63", [member("สิบ", status="pending")]),
    ]
    for number, (organisation, province, members) in enumerate(households):
        send(session, blobs, organisation, household_xml(f"uuid:h{number}", province=province, members=members))
    send(session, blobs, hill, household_xml(
        "uuid:canary", province="57", head_name=CANARY_NAME, head_id=CANARY_HEAD_ID, gps=CANARY_GPS,
        remark=CANARY_REMARK, members=[member(CANARY_MEMBER, CANARY_ID)],
    ))
    for number in range(6):
        send(session, blobs, lake, household_xml(f"uuid:lake{number}", province="63", members=[member("ทะเล", status="thai")]))
    people = {
        "admin": make_user(session, "admin@net.example", admin=True),
        "analyst": create_user(session, "analyst@net.example", "a long password", realm="r", is_analyst=True),
    }
    for role in ("manager", "viewer", "collector"):
        people[role] = make_user(session, f"{role}@hillnet.example")
        add_member(session, hill, people[role], role)
    session.commit()
    return {name: user.id for name, user in people.items()}
