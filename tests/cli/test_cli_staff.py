"""`idp staff add` (contract §2): a director for the school console, with a mailed enrolment
link; the contract's JSON; one line on stderr for what can't be done."""

from __future__ import annotations

import time

import pytest

from idp import outbox
from tests.cli.harness import Cli, assert_one_line_failure
from tests.mailbox import Mailbox, links_in

CHILD = "Noé;Lefèvre;2016-02-14;0751234J;CE2;École Jules-Ferry"
ADD = ["staff", "add", "--email", "Claire.Dubois@Ecole.example", "--given-name", "Claire"]
ADD += ["--family-name", "Dubois"]


@pytest.fixture
def smtp() -> Mailbox:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


def test_staff_add_mails_an_enrolment_link_and_prints_the_contract_json(cli: Cli, smtp):
    cli.invoke_json(
        "accounts", "create", "--given-name", "Anaïs", "--family-name", "Lefèvre", "--child", CHILD
    )
    done = cli(*ADD, "--school", "0751234j", "--json", IDP_SMTP_URL=smtp.url)
    document = cli.loads(done)
    assert document == {
        "staff_id": document["staff_id"],
        "email": "claire.dubois@ecole.example",
        "schools": ["0751234J"],
    }
    (link,) = links_in(smtp.last_to("claire.dubois@ecole.example"))
    assert "/ecole/inscription/" in link


def test_staff_add_refuses_an_unknown_school_and_a_second_account(cli: Cli, smtp):
    unknown = cli(*ADD, "--school", "0999999Z", IDP_SMTP_URL=smtp.url)
    assert "unknown school" in assert_one_line_failure(unknown)
    cli.invoke_json(
        "accounts", "create", "--given-name", "Anaïs", "--family-name", "Lefèvre", "--child", CHILD
    )
    assert cli(*ADD, "--school", "0751234J", IDP_SMTP_URL=smtp.url).returncode == 0
    again = cli(*ADD, "--school", "0751234J", IDP_SMTP_URL=smtp.url)
    assert again.returncode == 0  # still invited: a new link, the older one dead
    links = [links_in(m)[0] for m in smtp.to("claire.dubois@ecole.example")]
    assert len(links) == 2 and links[0] != links[1]


def test_the_enrolment_mail_waits_in_the_outbox_while_smtp_is_down(cli: Cli, smtp):
    """Never lost: the director is added, the command says the mail is queued, and the next
    sender (here `idp worker --once`) delivers it once the mail server answers."""
    cli.invoke_json(
        "accounts", "create", "--given-name", "Anaïs", "--family-name", "Lefèvre", "--child", CHILD
    )
    smtp.stop()
    down = cli(*ADD, "--school", "0751234J", "--json", IDP_SMTP_URL=smtp.url)
    assert cli.loads(down)["email"] == "claire.dubois@ecole.example"
    assert "enrolment mail to claire.dubois@ecole.example is queued" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
    smtp.start()
    time.sleep(outbox.BACKOFF_BASE + 0.5)  # the next attempt is due after the first backoff

    later = cli("worker", "--once", "--json", IDP_SMTP_URL=smtp.url)
    assert later.returncode == 0, later.stderr
    (link,) = links_in(smtp.last_to("claire.dubois@ecole.example"))
    assert "/ecole/inscription/" in link
