"""People named as organizations are never companies; companies named after people stay companies."""

from __future__ import annotations

import pandas as pd
import pytest

from enrichment.people import looks_like_a_person, person_like


@pytest.mark.parametrize(
    ("organization", "network"),
    [
        ("ИП Иванов Иван Иванович", "203.0.113.0/24"),  # a Russian sole proprietor
        ("Индивидуальный предприниматель Петров П. П.", None),
        ("ФОП Петренко Петро Петрович", None),  # a Ukrainian one
        ("ФОП Петренко", None),  # the form alone says it, even before a bare surname
        ("IP Ivanov", None),
        ("PFA Ionescu Mihai", None),
        ("Ionescu Mihai PFA", None),  # a Latin form may also stand last
        ("Частное лицо", None),
        ("Private person", None),
        ("Privatperson", None),
        # marker phrases wherever they stand
        ("Kowalski Jan osoba fizyczna", None),
        ("Nowak Anna - osoba fizyczna prowadząca działalność gospodarczą", None),
        ("Martin Pierre, particulier", None),
        ("Rossi Mario persona fisica", None),
        ("Silva João pessoa física", None),
        ("Yılmaz Ahmet gerçek kişi", None),
        # a given name and a surname, in either order, on any network but a large one
        ("Jan Kowalski", None),
        ("Marie Dubois", "198.51.100.0/24"),
        ("Kowalski Jan", "198.51.100.0/26"),
        ("José García Pérez", None),
        ("Pieter van der Berg", None),
        ("Mehmet Yılmaz", None),
        ("John Smith", "198.51.96.0/21"),  # 2,048 addresses: not too many for one person
        ("John Smith", "2001:db8::/33"),
        ("Anne-Sophie Dubois", "198.51.100.0/24"),  # a double given name whose first part is known
        ("John F Kennedy", None),  # a middle initial without its dot
        ("Ana Maria Silva Costa Pereira", None),  # five names
        ("Ana Maria da Silva dos Santos", None),  # particles do not count towards the length
        ("JAN KOWALSKI", None),
        ("adam_crouch", "198.51.100.16/28"),  # the shape of MaxMind's test records
        ("nguyen_thanh", "198.51.100.16/28"),  # a user name, though no known given name is in it
        ("DATA-COM Piotr Nowak", None),  # a sole trader: a trade name and the owner's name
        ("Jean-Luc O'Brien", "2001:db8:7::/48"),
        # patronymic, either order, any network
        ("Иванов Иван Иванович", "198.51.100.0/22"),
        ("Иван Иванович Иванов", "10.0.0.0/8"),
        ("IVANOV IVAN IVANOVICH", "198.51.100.0/22"),
        ("Olena Petrivna", "10.0.0.0/8"),  # a given name and patronymic
        ("Petrenko Olena Petrivna", None),
        # initials
        ("Ivanov I.I.", None),
        ("Иванов И. И.", None),
        ("Kowalski J.", None),
        ("И.И. Иванов", None),
        ("A.V. Smirnov", None),
        # a bare name shape on a small allocation
        ("Leung Yin Lam", "198.51.100.8/29"),
        ("Nguyen Van Thanh", "2001:db8:1:2::/64"),
        ("Nguyen Thi Minh Khai", "198.51.100.8/29"),  # four names
    ],
)
def test_a_person_is_never_a_company(organization: str, network: str | None) -> None:
    assert looks_like_a_person(organization, network)


@pytest.mark.parametrize(
    ("organization", "network"),
    [
        ("ООО Ромашка", "198.51.100.4/30"),  # a legal form
        ("Smith & Wesson", "198.51.100.4/30"),  # not a name
        ("Silva e Filhos Lda", "198.51.100.4/30"),  # a family firm
        ("Silva e Filhos", None),
        ("Farmácia Santos", "198.51.100.4/30"),  # a pharmacy named after its founder
        ("Farmacia Maria Rossi", None),
        ("Hotel-Restaurant Müller", "198.51.100.4/30"),  # business words joined by a hyphen
        ("Li Mei Trading", "198.51.100.4/30"),  # "Mei" (Brazil's MEI) counts only first or last
        ("Apotheke Dr. Müller", None),
        ("Müller & Partner", "198.51.100.4/30"),  # a law partnership
        ("Maison De Vinci SARL", "198.51.100.4/30"),  # a French company with the particle "De"
        ("Maison De Vinci", "198.51.100.4/30"),
        ("Jan Kowalski Sp. z o.o.", None),  # a company named after its founder
        ("John Smith Ltd", "198.51.100.4/30"),
        ("Smith Consulting", "198.51.100.4/30"),  # a business word
        ("Northwind Logistics", "198.51.100.4/30"),
        ("IP Only Networks AB", None),  # a Latin "IP" in front of a company
        ("IP 4 You", None),  # ... or of anything but a name
        ("Auto 2000 PFA", None),
        ("Globex", "198.51.100.4/30"),  # one word is a brand, not a name
        ("Globex_Online", "198.51.100.16/28"),  # capitalised: a firm's handle, not a user name
        ("Nowak IT", "198.51.100.4/30"),  # a surname and a trade
        ("Sklep Ewa 24", None),  # a shop named after its owner, with a number: a trade name
        ("Victoria Harbour Ferry Tours Hong Kong", None),  # six words are a firm's name
        ("Northern Lights Aurora Borealis Tours", "198.51.100.8/29"),  # five: not a name shape
        ("J.P. Morgan", None),  # initials before a Western surname: a firm's style
        ("John Smith", "198.51.100.0/20"),  # no person holds 4,096 addresses
        ("John Smith", "2001:db8::/32"),  # nor an IPv6 /32
        ("Leung Yin Lam", "198.51.100.0/28"),  # a name shape alone needs a /29 or smaller
        ("Alonso Oliveira Neto ME", None),  # Brazil's microempresa
    ],
)
def test_a_company_is_not_a_person(organization: str, network: str | None) -> None:
    assert not looks_like_a_person(organization, network)


@pytest.mark.parametrize(
    ("network", "a_person"),
    [
        ("198.51.100.8/29", True),  # exactly a /29: small enough
        ("198.51.100.8/30", True),
        ("198.51.100.0/28", False),
        ("2001:db8:1::/48", True),  # exactly an IPv6 end site
        ("2001:db8::/47", False),
        (None, False),
    ],
)
def test_a_name_shape_without_a_known_given_name_counts_on_a_29_or_smaller(network: str | None, a_person: bool) -> None:
    assert looks_like_a_person("Leung Yin Lam", network) is a_person


@pytest.mark.parametrize(("organization", "a_person"), [("Jan Kowalski", True), ("Leung Yin Lam", False)])
def test_a_network_that_cannot_be_read_is_neither_small_nor_large(organization: str, a_person: bool) -> None:
    assert looks_like_a_person(organization, "not a network") is a_person


def test_person_like_judges_each_row_by_its_organization_and_network() -> None:
    companies = pd.DataFrame(
        {
            "ip": ["198.51.100.5", "198.51.100.6", "203.0.113.9", "192.0.2.1"],
            "network": ["198.51.100.4/30", "198.51.100.4/30", "203.0.113.0/24", "192.0.2.0/24"],
            "organization": ["Leung Yin Lam", "Leung Yin Lam", "Leung Yin Lam", None],
        }
    )
    assert person_like(companies).tolist() == [True, True, False, False]
