"""Deterministic, realistic demo data of any size: ``flask custreg demo --customers N``.

Finnish and Norwegian companies with valid business IDs and VAT numbers, addresses, contacts,
e-invoicing addresses, market segments, projects and sales cases, proposals, invoices and costs,
owned by a handful of demo users (log in as :data:`DEMO_ADMIN_EMAIL` / :data:`DEMO_PASSWORD`).

The same seed (and chunk size) on an empty database gives the same data; dates are relative to
``today``, which is a parameter. Rows go in with bulk ``INSERT``s, a chunk of customers with all
their rows per transaction, so 100,000 customers load in minutes. Running it again adds more
customers, numbered after the highest existing number, with business IDs no other customer has.

Per customer, by default: 3 projects and sales cases, 10 invoices and 10 costs (exact totals),
about 2.2 addresses, 2.25 contacts, 0.65 e-invoicing addresses and 0.95 market segments.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Table, func, insert, select, text
from werkzeug.security import generate_password_hash

from .extensions import db
from .models import (
    Address,
    Contact,
    Cost,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    Industry,
    Invoice,
    InvoiceStatus,
    InvoiceTemplate,
    MarketSegment,
    Project,
    Proposal,
    User,
    VatRate,
    customer_segment,
)
from .services.customers import FIRST_CUSTOMER_NUMBER, next_customer_number
from .services.kpi import local_today
from .services.setup import seed_defaults

__all__ = [
    "DEMO_ADMIN_EMAIL",
    "DEMO_PASSWORD",
    "DemoSummary",
    "business_ids",
    "generate",
    "has_customers",
]

DEMO_PASSWORD = "demo-password"
DEMO_EMAIL_DOMAIN = "demo.custreg.example"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_EMAIL_DOMAIN}"
DEMO_ADMIN_NAME = "Demo Administrator"

PROJECTS_PER_CUSTOMER = 3.0
INVOICES_PER_CUSTOMER = 10.0
COSTS_PER_CUSTOMER = 10.0
CHUNK_SIZE = 2000
FIRST_INVOICE_NUMBER = 100001

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

# TOL 2008 (Statistics Finland; the five-digit extension of NACE Rev. 2) code, English name,
# weight in FI, weight in NO, trade words in Finnish and Norwegian company names, and word stems
# that compound with a nature word ("Kivi" + "rakennus" = "Kivirakennus").
INDUSTRIES: tuple[tuple[str, str, int, int, tuple[str, ...], tuple[str, ...], tuple[str, ...],
                        tuple[str, ...]], ...] = (
    ("41200", "Construction of residential and non-residential buildings", 8, 8,
     ("Rakennus", "Rakennuspalvelu", "Rakentajat"), ("Bygg", "Byggservice", "Entreprenør"),
     ("rakennus", "rakenne"), ("bygg",)),
    ("43210", "Electrical installation", 5, 5,
     ("Sähkö", "Sähköasennus", "Sähkötekniikka"), ("Elektro", "Elektroinstallasjon", "Elservice"),
     ("sähkö",), ("elektro",)),
    ("43220", "Plumbing, heat and air-conditioning installation", 4, 4,
     ("LVI", "LVI-Palvelu", "Putkityö"), ("VVS", "Rørlegger", "Rørservice"),
     ("putki",), ("rør",)),
    ("62010", "Computer programming activities", 7, 6,
     ("Software", "Ohjelmistot", "Digital", "Solutions"), ("Software", "Data", "Digital",
                                                           "Solutions"),
     ("soft", "data", "code"), ("soft", "data")),
    ("62020", "Computer consultancy activities", 5, 4,
     ("IT-Palvelut", "Consulting", "Tietotekniikka"), ("IT-Konsult", "Consulting", "IT-Partner"),
     (), ()),
    ("63110", "Data processing, hosting and related activities", 2, 2,
     ("Hosting", "Datacenter", "Pilvipalvelut"), ("Hosting", "Datasenter", "Sky"), (), ()),
    ("69201", "Accounting and bookkeeping activities", 6, 6,
     ("Tilitoimisto", "Taloushallinto", "Kirjanpito"), ("Regnskap", "Regnskapsbyrå", "Økonomi"),
     (), ()),
    ("69101", "Activities of law firms", 2, 2,
     ("Asianajotoimisto", "Lakiasiaintoimisto"), ("Advokatfirma", "Advokatfirmaet"), (), ()),
    ("70220", "Business and other management consultancy activities", 5, 5,
     ("Consulting", "Konsultointi", "Partners"), ("Consulting", "Rådgivning", "Partners"), (), ()),
    ("71121", "General civil engineering design", 3, 3,
     ("Insinööritoimisto", "Suunnittelu", "Engineering"), ("Ingeniørfirma", "Prosjektering",
                                                           "Engineering"), (), ()),
    ("73110", "Advertising agencies", 3, 3,
     ("Mainostoimisto", "Media", "Viestintä"), ("Reklamebyrå", "Kommunikasjon", "Media"), (), ()),
    ("46900", "Non-specialised wholesale trade", 4, 4,
     ("Tukku", "Trading", "Kauppahuone"), ("Engros", "Handel", "Trading"), (), ()),
    ("47410", "Retail sale of computers, peripheral units and software", 2, 2,
     ("Tietokone", "Computer Center"), ("Data", "Computer"), (), ()),
    ("49410", "Freight transport by road", 6, 6,
     ("Kuljetus", "Logistiikka", "Rahti"), ("Transport", "Logistikk", "Frakt"),
     ("kuljetus",), ("transport",)),
    ("52100", "Warehousing and storage", 2, 2,
     ("Varastopalvelu", "Terminaali"), ("Lager", "Terminal"), (), ()),
    ("55101", "Hotels", 2, 3, ("Hotelli", "Matkailu"), ("Hotell", "Reiseliv"), (), ()),
    ("56101", "Restaurants", 4, 4,
     ("Ravintola", "Catering", "Bistro"), ("Restaurant", "Catering", "Kro"), (), ()),
    ("10710", "Manufacture of bread; fresh pastry goods and cakes", 2, 1,
     ("Leipomo", "Kotileipomo"), ("Bakeri", "Baker"), (), ()),
    ("16100", "Sawmilling and planing of wood", 2, 2,
     ("Saha", "Puu", "Puutuote"), ("Sagbruk", "Trelast", "Tre"), ("puu",), ("tre",)),
    ("25620", "Machining", 3, 2,
     ("Konepaja", "Metalli", "Koneistus"), ("Mekaniske", "Maskin", "Metall"),
     ("metalli",), ("metall",)),
    ("28220", "Manufacture of lifting and handling equipment", 1, 1,
     ("Nosturit", "Nostolaite"), ("Løfteteknikk", "Kran"), (), ()),
    ("35111", "Production of electricity by hydro and wind power", 1, 3,
     ("Energia", "Voima", "Tuulivoima"), ("Kraft", "Energi", "Vindkraft"), ("voima",), ("kraft",)),
    ("68209", "Renting and operating of other real estate", 4, 4,
     ("Kiinteistöt", "Kiinteistö", "Toimitilat"), ("Eiendom", "Eiendommer", "Næringseiendom"),
     (), ()),
    ("81210", "General cleaning of buildings", 3, 3,
     ("Siivous", "Puhdistuspalvelu"), ("Renhold", "Rengjøring"), (), ()),
    ("86210", "General medical practice activities", 2, 2,
     ("Lääkärikeskus", "Terveys"), ("Legesenter", "Helse"), (), ()),
    ("85590", "Other education n.e.c.", 2, 2,
     ("Koulutus", "Akatemia", "Training"), ("Kurs", "Opplæring", "Akademi"), (), ()),
    ("45201", "Maintenance and repair of motor vehicles (excl. tyres)", 3, 3,
     ("Autokorjaamo", "Autohuolto", "Autokeskus"), ("Bilverksted", "Bilservice", "Bilsenter"),
     (), ()),
    ("03110", "Marine fishing", 1, 3, ("Kalastus", "Kala"), ("Fiskeri", "Sjømat", "Fisk"), (), ()),
    ("03210", "Marine aquaculture", 1, 3,
     ("Kalankasvatus", "Vesiviljely"), ("Havbruk", "Oppdrett", "Laks"), (), ()),
    ("96021", "Hairdressing", 2, 2, ("Kampaamo", "Parturi-Kampaamo"), ("Frisør", "Hårstudio"),
     (), ()),
)  # fmt: skip

# Market segments: parents and the segments nested under them.
SEGMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Public sector", ("Municipalities", "Central government", "Wellbeing services counties")),
    ("Private sector", ("SMEs", "Large enterprises", "Start-ups")),
    ("Non-profit", ("Associations", "Foundations")),
    ("Partners", ("Resellers", "Technology partners")),
    ("Key accounts", ()),
    ("Nordic export", ()),
)
SEGMENT_WEIGHTS = {
    "Public sector": 1, "Municipalities": 4, "Central government": 1,
    "Wellbeing services counties": 1, "Private sector": 2, "SMEs": 12, "Large enterprises": 3,
    "Start-ups": 3, "Non-profit": 1, "Associations": 2, "Foundations": 1, "Partners": 1,
    "Resellers": 2, "Technology partners": 1, "Key accounts": 3, "Nordic export": 2,
}  # fmt: skip

# City, weight, telephone area code, PO box postal code, (street, postal code) pairs.
FI_CITIES: tuple[tuple[str, int, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Helsinki", 30, "9", "00101", (
        ("Mannerheimintie", "00100"), ("Aleksanterinkatu", "00100"), ("Bulevardi", "00120"),
        ("Eerikinkatu", "00100"), ("Itämerenkatu", "00180"), ("Ruoholahdenkatu", "00180"),
        ("Lauttasaarentie", "00200"), ("Pasilanraitio", "00240"), ("Valimotie", "00380"),
        ("Hämeentie", "00530"), ("Teollisuuskatu", "00510"), ("Sörnäisten rantatie", "00500"),
        ("Arabiankatu", "00560"), ("Vuosaarentie", "00980"), ("Tulppatie", "00880"))),
    ("Espoo", 12, "9", "02101", (
        ("Keilaranta", "02150"), ("Tekniikantie", "02150"), ("Otakaari", "02150"),
        ("Espoonkatu", "02770"), ("Revontulentie", "02100"), ("Piispansilta", "02230"),
        ("Kutojantie", "02630"), ("Upseerinkatu", "02600"))),
    ("Vantaa", 9, "9", "01301", (
        ("Tikkurilantie", "01300"), ("Ratatie", "01300"), ("Äyritie", "01510"),
        ("Vantaankoskentie", "01670"), ("Kielotie", "01300"), ("Martinkyläntie", "01720"))),
    ("Tampere", 11, "3", "33101", (
        ("Hämeenkatu", "33100"), ("Satakunnankatu", "33210"), ("Hatanpään valtatie", "33100"),
        ("Hermiankatu", "33720"), ("Kalevantie", "33100"), ("Åkerlundinkatu", "33100"),
        ("Visiokatu", "33720"), ("Sarankulmankatu", "33900"))),
    ("Turku", 8, "2", "20101", (
        ("Yliopistonkatu", "20100"), ("Eerikinkatu", "20100"), ("Linnankatu", "20100"),
        ("Itäinen Pitkäkatu", "20520"), ("Joukahaisenkatu", "20520"), ("Ruukinkatu", "20540"),
        ("Tykistökatu", "20520"))),
    ("Oulu", 8, "8", "90101", (
        ("Isokatu", "90100"), ("Kirkkokatu", "90100"), ("Hallituskatu", "90100"),
        ("Elektroniikkatie", "90590"), ("Teknologiantie", "90590"), ("Kiviharjuntie", "90220"),
        ("Kauppurienkatu", "90100"))),
    ("Jyväskylä", 6, "14", "40101", (
        ("Kauppakatu", "40100"), ("Väinönkatu", "40100"), ("Ahjokatu", "40320"),
        ("Piippukatu", "40100"), ("Vasarakatu", "40320"))),
    ("Kuopio", 5, "17", "70101", (
        ("Puijonkatu", "70100"), ("Kauppakatu", "70100"), ("Microkatu", "70210"),
        ("Haapaniemenkatu", "70110"), ("Sammakkolammentie", "70700"))),
    ("Lahti", 5, "3", "15101", (
        ("Aleksanterinkatu", "15110"), ("Vesijärvenkatu", "15140"), ("Mukkulankatu", "15210"),
        ("Askonkatu", "15100"), ("Niemenkatu", "15140"))),
    ("Pori", 3, "2", "28101", (
        ("Yrjönkatu", "28100"), ("Antinkatu", "28100"), ("Satakunnankatu", "28130"),
        ("Pohjoisranta", "28100"))),
    ("Vaasa", 3, "6", "65101", (
        ("Hovioikeudenpuistikko", "65100"), ("Kauppapuistikko", "65100"),
        ("Runsorintie", "65380"), ("Vaasanpuistikko", "65100"))),
    ("Joensuu", 3, "13", "80101", (
        ("Siltakatu", "80100"), ("Torikatu", "80100"), ("Länsikatu", "80110"),
        ("Kauppakatu", "80100"))),
    ("Seinäjoki", 3, "6", "60101", (
        ("Kauppakatu", "60100"), ("Ruukintie", "60100"), ("Vaasantie", "60100"),
        ("Kampusranta", "60320"))),
    ("Rovaniemi", 2, "16", "96101", (
        ("Koskikatu", "96200"), ("Rovakatu", "96200"), ("Valtakatu", "96100"),
        ("Teollisuustie", "96320"))),
    ("Hämeenlinna", 3, "3", "13101", (
        ("Raatihuoneenkatu", "13100"), ("Palokunnankatu", "13100"), ("Parolantie", "13130"))),
    ("Lappeenranta", 3, "5", "53101", (
        ("Valtakatu", "53100"), ("Kauppakatu", "53100"), ("Laserkatu", "53850"),
        ("Snellmaninkatu", "53100"))),
    ("Kotka", 2, "5", "48101", (
        ("Keskuskatu", "48100"), ("Kirkkokatu", "48100"), ("Hovinsaarentie", "48600"))),
)  # fmt: skip

NO_CITIES: tuple[tuple[str, int, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Oslo", 30, "22", "0102", (
        ("Karl Johans gate", "0154"), ("Akersgata", "0158"), ("Storgata", "0184"),
        ("Drammensveien", "0271"), ("Bogstadveien", "0355"), ("Trondheimsveien", "0560"),
        ("Pilestredet", "0164"), ("Thorvald Meyers gate", "0555"), ("Økernveien", "0579"),
        ("Nydalsveien", "0484"))),
    ("Bergen", 14, "55", "5804", (
        ("Strandgaten", "5013"), ("Kong Oscars gate", "5017"), ("Olav Kyrres gate", "5014"),
        ("Nygårdsgaten", "5015"), ("Bryggen", "5003"), ("Solheimsgaten", "5058"),
        ("Kanalveien", "5068"))),
    ("Trondheim", 10, "73", "7405", (
        ("Munkegata", "7011"), ("Kongens gate", "7011"), ("Olav Tryggvasons gate", "7011"),
        ("Innherredsveien", "7042"), ("Prinsens gate", "7012"), ("Sluppenveien", "7037"))),
    ("Stavanger", 9, "51", "4001", (
        ("Kirkegata", "4006"), ("Løkkeveien", "4008"), ("Pedersgata", "4013"),
        ("Kongsgårdbakken", "4005"), ("Forusbeen", "4033"))),
    ("Kristiansand", 5, "38", "4604", (
        ("Markens gate", "4611"), ("Dronningens gate", "4608"), ("Rådhusgata", "4611"),
        ("Vestre Strandgate", "4610"))),
    ("Tromsø", 4, "77", "9253", (
        ("Storgata", "9008"), ("Grønnegata", "9008"), ("Sjøgata", "9008"),
        ("Stakkevollvegen", "9010"))),
    ("Drammen", 5, "32", "3001", (
        ("Bragernes torg", "3017"), ("Grønland", "3045"), ("Tollbugata", "3044"),
        ("Øvre Storgate", "3018"))),
    ("Fredrikstad", 4, "69", "1601", (
        ("Nygaardsgata", "1606"), ("Storgata", "1607"), ("Dampskipsbrygga", "1607"))),
    ("Bodø", 3, "75", "8001", (
        ("Storgata", "8006"), ("Sjøgata", "8006"), ("Dronningens gate", "8006"))),
    ("Ålesund", 3, "70", "6001", (
        ("Kongens gate", "6002"), ("Keiser Wilhelms gate", "6003"), ("Lorkenesgata", "6002"))),
    ("Sandnes", 4, "51", "4301", (
        ("Langgata", "4306"), ("Jærveien", "4319"), ("Stasjonsgata", "4307"))),
    ("Hamar", 2, "62", "2302", (
        ("Torggata", "2317"), ("Grønnegata", "2317"), ("Vangsvegen", "2317"))),
    ("Tønsberg", 3, "33", "3101", (
        ("Storgaten", "3126"), ("Nedre Langgate", "3126"))),
)  # fmt: skip

FI_FIRST_NAMES = (
    "Aino", "Anna", "Emilia", "Helmi", "Johanna", "Kaisa", "Laura", "Liisa", "Maria", "Minna",
    "Niina", "Outi", "Päivi", "Riikka", "Sanna", "Satu", "Tiina", "Veera", "Elina", "Hanna",
    "Antti", "Eero", "Heikki", "Jari", "Juha", "Jukka", "Kari", "Lauri", "Markku", "Matti",
    "Mikko", "Olli", "Pekka", "Sami", "Timo", "Tuomas", "Ville", "Janne", "Petri", "Ilkka",
)  # fmt: skip
FI_LAST_NAMES = (
    "Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
    "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen",
    "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen",
    "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen",
    "Ahonen", "Lindqvist", "Lindholm", "Nyström", "Hiltunen", "Miettinen", "Väisänen",
    "Pitkänen", "Aaltonen", "Manninen", "Koivisto",
)  # fmt: skip
NO_FIRST_NAMES = (
    "Anne", "Ingrid", "Kari", "Marit", "Nora", "Emma", "Ida", "Silje", "Hilde", "Ragnhild",
    "Solveig", "Ingeborg", "Maja", "Thea", "Sigrid", "Tone", "Jan", "Per", "Bjørn", "Ole",
    "Lars", "Kjell", "Knut", "Arne", "Svein", "Morten", "Eirik", "Håkon", "Magnus", "Sindre",
    "Jonas", "Andreas", "Geir", "Terje", "Trond", "Øyvind",
)  # fmt: skip
NO_LAST_NAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen",
    "Lund", "Sørensen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Bakke", "Lie",
    "Ruud", "Kristoffersen", "Nygård", "Aas", "Haugland", "Rønning",
)  # fmt: skip

FI_TITLES = (
    "Toimitusjohtaja", "Talousjohtaja", "Myyntipäällikkö", "Hankintapäällikkö", "Kirjanpitäjä",
    "IT-päällikkö", "Projektipäällikkö", "Ostaja", "Tuotantopäällikkö",
    "Hallituksen puheenjohtaja", "Controller", "CEO", "CFO", "Palvelupäällikkö", "Assistentti",
)  # fmt: skip
NO_TITLES = (
    "Daglig leder", "Økonomisjef", "Salgssjef", "Innkjøpssjef", "Regnskapsfører", "IT-sjef",
    "Prosjektleder", "Innkjøper", "Driftssjef", "Styreleder", "Controller", "CEO", "CFO",
    "Kundeansvarlig", "Kontormedarbeider",
)  # fmt: skip

FI_NATURE = (
    "Kivi", "Metsä", "Järvi", "Tunturi", "Revontuli", "Kaamos", "Karhu", "Ilves", "Kotka",
    "Joutsen", "Saimaa", "Aalto", "Kallio", "Honka", "Kuusi", "Koivu", "Lumi", "Helmi", "Tähti",
    "Aurinko", "Sisu", "Vuoksi", "Kide", "Ahven",
)  # fmt: skip
FI_PLACES_GENITIVE = (
    "Helsingin", "Tampereen", "Turun", "Oulun", "Pohjolan", "Savon", "Karjalan", "Lapin",
    "Hämeen", "Uudenmaan", "Pirkanmaan", "Satakunnan", "Kainuun", "Pohjanmaan", "Keski-Suomen",
    "Etelä-Suomen", "Länsi-Suomen", "Itä-Suomen", "Kymen", "Vaasan", "Kuopion", "Jyväskylän",
    "Lahden",
)  # fmt: skip
NO_NATURE = (
    "Fjell", "Fjord", "Nordlys", "Havbris", "Bølge", "Skog", "Elv", "Stein", "Berg",
    "Midnattsol", "Granitt", "Bjørk", "Furu", "Tind", "Vidde", "Ørn", "Ulv", "Foss", "Kyst",
    "Polar",
)  # fmt: skip
NO_PLACES = (
    "Oslo", "Bergen", "Trondheim", "Stavanger", "Nord-Norge", "Vestland", "Sørlandet",
    "Romerike", "Hedmark", "Telemark", "Lofoten", "Sunnmøre", "Helgeland", "Finnmark",
    "Østfold", "Vestfold", "Hardanger", "Nordfjord", "Jæren", "Ryfylke", "Agder", "Follo",
)  # fmt: skip
ENGLISH_PREFIXES = {
    "FI": ("Nordic", "Arctic", "Polar", "Boreal", "Baltic", "Aurora", "Fenno"),
    "NO": ("Nordic", "Arctic", "Viking", "Polar", "North Sea", "Aurora"),
}

# Finnish e-invoicing operators (intermediator codes) with weights.
FI_OPERATORS = (
    ("003721291126", 20),  # Maventa
    ("003723327487", 14),  # Apix Messaging
    ("003703575029", 10),  # CGI
    ("003701011385", 8),  # Tieto
    ("BAWCFI22", 10),  # Basware
    ("NDEAFIHH", 8),  # Nordea
    ("OKOYFIHH", 10),  # OP
    ("DABAFIHH", 4),  # Danske Bank
    ("HELSFIHH", 3),  # Aktia
    ("ITELFIHH", 3),  # Säästöpankki
)

PROJECT_NAMES = (
    "Website renewal", "ERP integration", "Annual maintenance {year}", "Framework agreement {year}",
    "Office relocation", "Cloud migration", "Payroll outsourcing", "Warehouse automation",
    "Financial statements {year}", "Fleet service contract", "Staff training programme",
    "Energy efficiency audit", "Customer portal", "Facility cleaning contract {year}",
    "Headquarters renovation", "Spring campaign {year}", "Audit support", "Data platform pilot",
    "Support and maintenance", "Security review", "Extension building", "HVAC upgrade",
    "Lighting retrofit", "Online store", "Reporting dashboard", "Production line upgrade",
    "Brand refresh", "Network modernisation", "Tender documentation", "Logistics analysis",
)  # fmt: skip
INTERNAL_PROJECT_NAMES = (
    "Internal: Sales training {year}", "Internal: CRM clean-up", "Internal: Trade fair {year}",
    "Internal: Presales pool", "Internal: Quality system", "Internal: Product development",
)  # fmt: skip
NOTES = (
    "Prefers e-invoices; paper invoices only on request.",
    "Framework agreement renewed every March.",
    "Key contact is on parental leave until autumn.",
    "Payment term 21 days net agreed in the frame contract.",
    "Purchase order number required on every invoice.",
    "Met at the trade fair; interested in the maintenance service.",
    "Invoices to the accounting firm's scanning service.",
    "Part of a group; central purchasing decides on larger orders.",
    "Seasonal business: most orders in spring.",
    "Reference customer; agreed to a case study.",
)

# Demo users: (first, last), fixed so that a second run reuses them.
MANAGERS = (
    ("Maria", "Lindqvist"), ("Jukka", "Heinonen"), ("Ingrid", "Solberg"), ("Antti", "Koskinen"),
    ("Håkon", "Berg"), ("Riikka", "Aaltonen"),
)  # fmt: skip
USERS = (
    ("Päivi", "Salo"), ("Aino", "Virtanen"), ("Mikko", "Rantanen"), ("Sanna", "Laitinen"),
    ("Lars", "Haugen"), ("Kari", "Nygård"), ("Tuomas", "Järvinen"), ("Elina", "Mattila"),
    ("Ole", "Pedersen"), ("Silje", "Dahl"), ("Ville", "Heikkilä"), ("Hanna", "Turunen"),
    ("Eirik", "Lund"), ("Thea", "Moen"), ("Olli", "Savolainen"), ("Minna", "Kinnunen"),
    ("Sindre", "Bakke"), ("Marit", "Strand"), ("Lauri", "Jokinen"), ("Outi", "Miettinen"),
    ("Magnus", "Iversen"), ("Nora", "Hagen"), ("Sami", "Manninen"), ("Veera", "Pitkänen"),
    ("Jonas", "Halvorsen"), ("Ida", "Eriksen"), ("Petri", "Hiltunen"), ("Laura", "Väisänen"),
    ("Andreas", "Ruud"), ("Sigrid", "Aas"), ("Janne", "Koivisto"), ("Kaisa", "Nyström"),
    ("Trond", "Haugland"), ("Tone", "Rønning"), ("Ilkka", "Lindholm"), ("Satu", "Salonen"),
    ("Geir", "Jacobsen"), ("Hilde", "Karlsen"), ("Timo", "Lahtinen"), ("Emilia", "Saarinen"),
)  # fmt: skip

_TRANSLITERATION = str.maketrans(
    {"ä": "a", "ö": "o", "å": "a", "ø": "o", "æ": "ae", "é": "e", "ü": "u", "&": "-", " ": "-"}
)


# --------------------------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------------------------


def fi_business_id(base: int) -> str | None:
    """The Finnish business ID (Y-tunnus) with 7-digit ``base``, e.g. ``0112038-9``; None when
    no check digit exists for ``base`` (one base in eleven)."""
    digits = f"{base:07d}"
    total = sum(w * int(d) for w, d in zip((7, 9, 10, 5, 8, 4, 2), digits, strict=True))
    check = -total % 11
    return None if check == 10 else f"{digits}-{check}"


def no_business_id(base: int) -> str | None:
    """The Norwegian organisation number with 8-digit ``base``, e.g. ``923609016``; None when no
    check digit exists for ``base``."""
    digits = f"{base:08d}"
    total = sum(w * int(d) for w, d in zip((3, 2, 7, 6, 5, 4, 3, 2), digits, strict=True))
    check = -total % 11
    return None if check == 10 else f"{digits}{check}"


def vat_number(country: str, business_id: str) -> str:
    """The VAT number of a business ID in its normalised form: ``FI01120389``,
    ``NO923609016MVA``."""
    if country == "FI":
        return "FI" + business_id.replace("-", "")
    return f"NO{business_id}MVA"


def business_ids(country: str, rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A random, valid business ID of ``country`` not in ``taken`` (which it joins) and its
    VAT number."""
    while True:
        if country == "FI":
            # Older companies have 0xxxxxx-1xxxxxx, those registered since 2001 2xxxxxx-3xxxxxx.
            found = fi_business_id(rng.randint(100_000, 3_399_999))
        else:
            found = no_business_id(
                rng.choice((81, 91, 92, 93, 96, 98, 99)) * 1_000_000 + rng.randrange(1_000_000)
            )
        if found is not None and found not in taken:
            taken.add(found)
            return found, vat_number(country, found)


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    """What one :func:`generate` run created."""

    admin_email: str = DEMO_ADMIN_EMAIL
    seed: int = 42
    first_number: int | None = None
    last_number: int | None = None
    customers: int = 0
    inactivated: int = 0
    addresses: int = 0
    einvoice_addresses: int = 0
    contacts: int = 0
    segment_links: int = 0
    projects: int = 0
    sales_cases: int = 0
    internal_projects: int = 0
    proposals: int = 0
    invoices: int = 0
    costs: int = 0
    users: int = 0
    industries: int = 0
    market_segments: int = 0
    default_settings: int = 0
    seconds: float = 0.0
    by_role: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        numbers = f" (numbers {self.first_number}-{self.last_number})" if self.customers else ""
        roles = ", ".join(f"{count} {role}" for role, count in self.by_role.items())
        lines = [
            f"Demo data (seed {self.seed}) created in {self.seconds:.1f} s:",
            f"  {self.customers:,} customers{numbers}, {self.inactivated:,} of them inactivated",
            f"  {self.addresses:,} addresses, {self.einvoice_addresses:,} e-invoicing addresses, "
            f"{self.contacts:,} contacts, {self.segment_links:,} market segment links",
            f"  {self.projects:,} projects and sales cases ({self.sales_cases:,} sales cases, "
            f"{self.internal_projects:,} internal), {self.proposals:,} proposals",
            f"  {self.invoices:,} invoices, {self.costs:,} costs",
            f"  {self.users} new users ({roles or 'all existed'}), {self.industries} new "
            f"industries, {self.market_segments} new market segments, "
            f"{self.default_settings} new default settings",
        ]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Settings rows (few, through the ORM)
# --------------------------------------------------------------------------------------------


def has_customers() -> bool:
    """Whether the database has any customer at all."""
    return db.session.scalar(select(Customer.id).limit(1)) is not None


def _email_part(text_: str) -> str:
    return text_.lower().translate(_TRANSLITERATION)


def _user_email(first: str, last: str) -> str:
    return f"{_email_part(first)}.{_email_part(last)}@{DEMO_EMAIL_DOMAIN}"


def _ensure_users(customers: int, summary: DemoSummary) -> tuple[list[int], list[int]]:
    """The demo users (made when missing): (ids of managers and users, weights as owners).

    One admin, 2-6 managers, 5-40 users depending on the size; the first user may view all
    invoices. Existing users with the same e-mail are reused as they are.
    """
    managers = MANAGERS[: max(2, min(len(MANAGERS), 2 + customers // 10_000))]
    users = USERS[: max(5, min(len(USERS), 5 + customers // 2_500))]
    wanted = [(DEMO_ADMIN_EMAIL, DEMO_ADMIN_NAME, "admin", False)]
    wanted += [(_user_email(f, s), f"{f} {s}", "manager", False) for f, s in managers]
    wanted += [(_user_email(f, s), f"{f} {s}", "user", i == 0) for i, (f, s) in enumerate(users)]
    emails = [email for email, *_ in wanted]
    existing = {
        user.email.lower(): user
        for user in db.session.scalars(select(User).where(func.lower(User.email).in_(emails)))
    }
    password_hash = None
    by_email = {}
    for email, name, role, all_invoices in wanted:
        user = existing.get(email)
        if user is None:
            if password_hash is None:
                password_hash = generate_password_hash(DEMO_PASSWORD)
            user = User(
                email=email,
                name=name,
                role=role,
                can_view_all_invoices=all_invoices,
                is_active=True,
                password_hash=password_hash,
            )
            db.session.add(user)
            summary.users += 1
            summary.by_role[role] = summary.by_role.get(role, 0) + 1
        by_email[email] = user
    db.session.flush()
    ids, weights = [], []
    for email, _name, role, _all in wanted:
        ids.append(by_email[email].id)
        weights.append({"admin": 0.2, "manager": 1.0, "user": 3.0}[role])
    return ids, weights


def _ensure_industries(summary: DemoSummary) -> list[int]:
    existing = {i.name: i for i in db.session.scalars(select(Industry))}
    rows = []
    for code, name, *_ in INDUSTRIES:
        industry = existing.get(name)
        if industry is None:
            industry = Industry(name=name, code=code)
            db.session.add(industry)
            summary.industries += 1
        rows.append(industry)
    db.session.flush()
    return [industry.id for industry in rows]


def _ensure_segments(summary: DemoSummary) -> tuple[list[int], list[float]]:
    existing = {(s.name, s.parent_id): s for s in db.session.scalars(select(MarketSegment))}

    def get(name: str, parent_id: int | None) -> MarketSegment:
        segment = existing.get((name, parent_id))
        if segment is None:
            segment = MarketSegment(name=name, parent_id=parent_id)
            db.session.add(segment)
            db.session.flush()
            existing[(name, parent_id)] = segment
            summary.market_segments += 1
        return segment

    ids, weights = [], []
    for parent_name, children in SEGMENTS:
        parent = get(parent_name, None)
        ids.append(parent.id)
        weights.append(SEGMENT_WEIGHTS[parent_name])
        for child in children:
            ids.append(get(child, parent.id).id)
            weights.append(SEGMENT_WEIGHTS[child])
    return ids, weights


@dataclass
class _Refs:
    """Ids of the settings rows the generated rows point to."""

    owners: list[int]
    owner_weights: list[float]
    industries: list[int]
    segments: list[int]
    segment_weights: list[float]
    active: int | None
    passive: int | None
    invoice_status: dict[str, int]
    vat: dict[tuple[str, str], int]
    templates: dict[str, int]


def _settings_refs(customers: int, summary: DemoSummary) -> _Refs:
    summary.default_settings = seed_defaults()
    owners, owner_weights = _ensure_users(customers, summary)
    industries = _ensure_industries(summary)
    segments, segment_weights = _ensure_segments(summary)
    db.session.commit()
    statuses = {s.name: s.id for s in db.session.scalars(select(CustomerStatus))}
    invoice_statuses = {s.name: s.id for s in db.session.scalars(select(InvoiceStatus))}
    missing = {"Draft", "Approved", "Sent", "Paid", "Credited"} - set(invoice_statuses)
    if missing:
        raise RuntimeError(f"Invoice statuses missing: {', '.join(sorted(missing))}.")
    return _Refs(
        owners=owners,
        owner_weights=owner_weights,
        industries=industries,
        segments=segments,
        segment_weights=segment_weights,
        active=statuses.get("Active"),
        passive=statuses.get("Passive"),
        invoice_status=invoice_statuses,
        vat={(v.country, v.name): v.id for v in db.session.scalars(select(VatRate))},
        templates={t.name: t.id for t in db.session.scalars(select(InvoiceTemplate))},
    )


# --------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------


class _IdSource:
    """Primary keys for rows that others point to (customers, projects), taken in blocks.

    On PostgreSQL they come from the table's own sequence (``nextval``), so ORM inserts made
    later, or at the same time, never collide. Elsewhere (SQLite) they continue after the
    highest id, which is what SQLite itself would do.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self.postgres = db.session.get_bind().dialect.name == "postgresql"
        self.next_id: int | None = None
        self.sequence: str | None = None
        if self.postgres:
            self.sequence = db.session.scalar(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
            )
            if self.sequence is None:
                self.postgres = False

    def take(self, count: int) -> list[int]:
        if count <= 0:
            return []
        if self.postgres:
            return list(
                db.session.scalars(
                    text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
                    {"seq": self.sequence, "n": count},
                )
            )
        if self.next_id is None:
            self.next_id = (db.session.scalar(select(func.max(self.table.c.id))) or 0) + 1
        start, self.next_id = self.next_id, self.next_id + count
        return list(range(start, start + count))


# --------------------------------------------------------------------------------------------
# Row generation
# --------------------------------------------------------------------------------------------


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _spread(rng: random.Random, total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` items among len(weights) owners, each in proportion to its weight."""
    counts = [0] * len(weights)
    if total <= 0 or not weights:
        return counts
    cumulative = _cumulative(weights)
    if cumulative[-1] <= 0:
        return counts
    top, pick, size = cumulative[-1], rng.random, len(counts) - 1
    for _ in range(total):
        counts[min(bisect.bisect(cumulative, pick() * top), size)] += 1
    return counts


def _pick(roll: float, choices: Sequence[tuple[Any, float]]) -> Any:
    """The first choice whose cumulative probability exceeds ``roll`` (the last one else)."""
    for value, cumulative in choices:
        if roll < cumulative:
            return value
    return choices[-1][0]


# Cumulative probabilities.
PROFILES = (("prospect", 0.12), ("dormant", 0.25), ("active", 1.0))
VAT_RATES = {
    "FI": (("General 25.5%", 0.92), ("Reduced 14%", 0.95), ("Reduced 10%", 0.97),
           ("Zero-rated", 1.0)),
    "NO": (("General 25%", 0.92), ("Reduced 15%", 0.95), ("Reduced 12%", 0.97),
           ("Zero-rated", 1.0)),
}  # fmt: skip
TEMPLATES = {"FI": "Standard", "NO": "Standard NO"}
SALES_CASE_STATUSES = (("in_progress", 0.4), ("won", 0.75), ("lost", 1.0))
PROJECT_STATUSES = (("won", 0.8), ("in_progress", 0.95), ("lost", 1.0))
CLOSED_SHARE = {  # (kind, sales status): share of closed ones among active customers' projects
    ("sales_case", "in_progress"): 0.0, ("sales_case", "won"): 0.5,
    ("sales_case", "lost"): 0.85, ("project", "in_progress"): 0.0, ("project", "won"): 0.35,
    ("project", "lost"): 1.0,
}  # fmt: skip
PROPOSAL_SHARE = {
    ("sales_case", "in_progress"): 0.7, ("sales_case", "won"): 0.9,
    ("sales_case", "lost"): 0.8, ("project", "in_progress"): 0.25, ("project", "won"): 0.25,
    ("project", "lost"): 0.25,
}  # fmt: skip
COST_WEIGHT = {
    ("sales_case", "in_progress"): 0.6, ("sales_case", "won"): 1.5, ("sales_case", "lost"): 0.3,
    ("project", "in_progress"): 4.0, ("project", "won"): 4.0, ("project", "lost"): 0.5,
}  # fmt: skip
# Invoice statuses by the invoice's age in days: recent ones are still drafts or unpaid.
INVOICE_STATUSES = (
    (14, (("Draft", 0.35), ("Approved", 0.55), ("Sent", 0.95), ("Paid", 1.0))),
    (45, (("Draft", 0.04), ("Approved", 0.08), ("Sent", 0.55), ("Paid", 1.0))),
    (None, (("Draft", 0.003), ("Sent", 0.04), ("Credited", 0.075), ("Paid", 1.0))),
)
PROJECT_WEIGHT = {"prospect": 0.4, "dormant": 2.0, "active": 3.6}
INVOICE_WEIGHT = {"prospect": 0.0, "dormant": 4.0, "active": 12.0}


class _Generator:
    """Builds the rows of one chunk of customers at a time; all randomness from one ``rng``."""

    def __init__(
        self,
        rng: random.Random,
        refs: _Refs,
        today: date,
        *,
        taken_ids: set[str],
        taken_names: set[str],
        invoice_number: int,
        proposal_number: int,
    ) -> None:
        self.rng = rng
        self.refs = refs
        self.today = today
        self.taken_ids = taken_ids
        self.taken_names = taken_names
        self.invoice_number = invoice_number
        self.proposal_number = proposal_number
        window_start = date(today.year - 1, 1, 1)
        self.days = [
            window_start + timedelta(days=n) for n in range((today - window_start).days + 1)
        ]
        self.last_year_days = [d for d in self.days if d.year < today.year] or self.days
        self.recent_days = self.days[-45:]
        self.reference = datetime(today.year, today.month, today.day, 12, 0)
        # Status of an invoice by its date.
        self.invoice_status_mix = {}
        for day in self.days:
            age = (today - day).days
            self.invoice_status_mix[day] = next(
                [(refs.invoice_status[name], p) for name, p in mix]
                for limit, mix in INVOICE_STATUSES
                if limit is None or age <= limit
            )
        self.numberless = {refs.invoice_status["Draft"]}
        self.approved = refs.invoice_status["Approved"]
        self.owner_cumulative = _cumulative(refs.owner_weights)
        self.segment_cumulative = _cumulative(refs.segment_weights)
        self.industry_cumulative = {
            country: _cumulative([row[2 if country == "FI" else 3] for row in INDUSTRIES])
            for country in ("FI", "NO")
        }
        self.city_cumulative = {
            "FI": _cumulative([c[1] for c in FI_CITIES]),
            "NO": _cumulative([c[1] for c in NO_CITIES]),
        }
        self.operator_cumulative = _cumulative([w for _, w in FI_OPERATORS])
        # Managers and users (not the admin) manage projects of customers they do not own.
        self.project_managers = refs.owners[1:] or refs.owners

    # --- small helpers ----------------------------------------------------------------------

    def _weighted(self, population: Sequence[Any], cumulative: list[float]) -> Any:
        return population[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    def _moment(self, earliest_days: int, latest_days: int = 0) -> datetime:
        """A time between ``earliest_days`` and ``latest_days`` days before the reference."""
        seconds = self.rng.randint(latest_days * 86_400, earliest_days * 86_400)
        return self.reference - timedelta(seconds=seconds)

    def _money(self, mu: float, sigma: float, low: int, high: int) -> Decimal:
        """Euros with cents, log-normally distributed around e**mu, clamped to [low, high]."""
        euros = min(max(math.exp(self.rng.gauss(mu, sigma)), low), high)
        return Decimal(int(euros * 100)).scaleb(-2)

    # --- customers ---------------------------------------------------------------------------

    def _company_name(self, country: str, industry: tuple, attempt: int) -> tuple[str, str]:
        """(full name, core for the web domain)."""
        rng = self.rng
        if country == "FI":
            trades, stems = industry[4], industry[6]
            firsts, lasts, nature = FI_FIRST_NAMES, FI_LAST_NAMES, FI_NATURE
        else:
            trades, stems = industry[5], industry[7]
            firsts, lasts, nature = NO_FIRST_NAMES, NO_LAST_NAMES, NO_NATURE
        trade = rng.choice(trades)
        last = rng.choice(lasts)
        form_roll = rng.random()
        if country == "FI":
            if form_roll < 0.07:  # sole trader (toiminimi): no company form in the name
                first = rng.choice(firsts)
                core = f"Tmi {first} {last}" if rng.random() < 0.5 else f"{trade} {first} {last}"
                return core, core.removeprefix("Tmi ")
            suffix = "Ky" if form_roll < 0.13 else "Oyj" if form_roll < 0.135 else "Oy"
        else:
            if form_roll < 0.07:  # enkeltpersonforetak
                first = rng.choice(firsts)
                core = f"{trade} {first} {last}"
                return core, core
            suffix = "DA" if form_roll < 0.09 else "ASA" if form_roll < 0.095 else "AS"
        pattern = rng.random()
        if pattern < 0.28:
            core = f"{last} {trade}"
        elif pattern < (0.45 if country == "FI" else 0.33):
            core = f"{trade} {last}"
        elif pattern < 0.62:
            place = rng.choice(FI_PLACES_GENITIVE if country == "FI" else NO_PLACES)
            core = f"{place} {trade}"
        elif pattern < 0.77:
            core = f"{rng.choice(nature)} {trade}"
        elif pattern < 0.85 and stems:
            core = rng.choice(nature) + rng.choice(stems)
        elif pattern < 0.92:
            core = f"{rng.choice(ENGLISH_PREFIXES[country])} {trade}"
        elif country == "NO" and pattern < 0.96:
            core = f"{last} & Sønn"
        else:
            other = rng.choice(lasts)
            core = f"{last} & {other}" if other != last else f"{last} & Co"
        if attempt >= 6:  # a common name: tell it apart by its home town
            cities = FI_CITIES if country == "FI" else NO_CITIES
            core = f"{core} {rng.choice(cities)[0]}"
        if country == "FI" and suffix == "Oy" and rng.random() < 0.04:
            return f"Oy {core} Ab", core
        return f"{core} {suffix}", core

    def _unique_name(self, country: str, industry: tuple) -> tuple[str, str]:
        for attempt in range(12):
            name, core = self._company_name(country, industry, attempt)
            if name not in self.taken_names:
                break
        self.taken_names.add(name)
        return name, core

    def _phone(self, country: str, area: str | None) -> str:
        rng = self.rng
        if country == "FI":
            if area is None:
                prefix = rng.choice(("40", "50", "44", "45", "41", "46"))
                return f"+358 {prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            return f"+358 {area} {rng.randint(100, 9999)} {rng.randint(1000, 9999)}"
        if area is None:
            return (
                f"+47 {rng.choice('49')}{rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(100, 999)}"
            )
        return f"+47 {area} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"

    def _street(self, country: str, street: str) -> str:
        rng = self.rng
        number = str(rng.randint(1, 120) if rng.random() < 0.8 else rng.randint(1, 30))
        roll = rng.random()
        if roll < 0.15:
            number += " " + rng.choice("ABC") if country == "FI" else rng.choice("ABC")
        elif country == "FI" and roll < 0.22:
            number += f" {rng.choice('AB')} {rng.randint(1, 40)}"
        return f"{street} {number}"

    def _po_box(self, country: str) -> str:
        box = self.rng.randint(1, 999)
        return f"PL {box}" if country == "FI" else f"Postboks {box}"

    def build(
        self,
        numbers: Sequence[int],
        customer_ids: Sequence[int],
        take_project_ids: Callable[[int], list[int]],
        targets: tuple[int, int, int],
    ) -> dict[str, list[dict[str, Any]]]:
        """All rows of the customers with these numbers and ids, by table key (see _TABLES).

        ``targets``: how many projects, invoices and costs the chunk gets in all.
        """
        rows: dict[str, list[dict[str, Any]]] = {key: [] for key in _TABLE_KEYS}
        customers = []  # (customer row, profile)
        for number, customer_id in zip(numbers, customer_ids, strict=True):
            row, profile, city, domain = self._customer(number, customer_id)
            rows["customer"].append(row)
            customers.append((row, profile))
            self._addresses(row, city, rows["address"])
            self._einvoice_addresses(row, rows["einvoice"])
            self._contacts(row, domain, rows["contact"])
            self._segments(row, rows["segment"])
        # Big customers have more of everything.
        sizes = [self.rng.lognormvariate(0, 0.6) for _ in customers]
        projects, billable = self._projects(customers, sizes, targets[0], take_project_ids, rows)
        self._invoices(customers, sizes, billable, targets[1], rows["invoice"])
        self._costs(projects, targets[2], rows["cost"])
        return rows

    def _customer(self, number: int, customer_id: int) -> tuple[dict[str, Any], str, tuple, str]:
        """(row, profile, city, web domain) of a new customer."""
        rng, refs = self.rng, self.refs
        chance = rng.random
        country = "FI" if chance() < 0.62 else "NO"
        index = self._weighted(range(len(INDUSTRIES)), self.industry_cumulative[country])
        name, core = self._unique_name(country, INDUSTRIES[index])
        business_id, vat = business_ids(country, rng, self.taken_ids)
        words = core.lower().translate(_TRANSLITERATION).replace(".", "").split("-")
        domain = "-".join(word for word in words if word) + ".example"
        # Prospects are new and have sales cases only; dormant customers bought last year.
        profile = _pick(chance(), PROFILES)
        inactivated = profile == "dormant" and chance() < 0.3
        if profile == "prospect":
            created = self._moment(400, 1)
        else:  # there before the first invoice (1 January last year)
            created = self._moment(6 * 365, len(self.days))
        updated = min(created + timedelta(days=rng.randint(0, 700)), self.reference)
        from_registry = chance() < 0.45
        template = "Standard EN" if chance() < 0.12 else TEMPLATES[country]
        vat_name = _pick(chance(), VAT_RATES[country])
        cities = FI_CITIES if country == "FI" else NO_CITIES
        city = self._weighted(cities, self.city_cumulative[country])
        row = {
            "id": customer_id,
            "number": number,
            "name": name,
            "business_id": business_id,
            "vat_number": vat,
            "country": country,
            "owner_id": self._weighted(refs.owners, self.owner_cumulative),
            "industry_id": refs.industries[index],
            "invoice_template_id": refs.templates.get(template),
            "vat_rate_id": refs.vat.get((country, vat_name)),
            "status_id": refs.passive if profile == "dormant" else refs.active,
            "is_active": not inactivated,
            "website": f"https://www.{domain}" if chance() < 0.8 else None,
            "email": None,
            "phone": self._phone(country, city[2]) if chance() < 0.85 else None,
            "notes": rng.choice(NOTES) if chance() < 0.12 else None,
            "registry_source": None,
            "registry_fetched_at": None,
            "registry_status": None,
            "created_at": created,
            "updated_at": updated,
        }
        if chance() < 0.75:
            row["email"] = f"{'info' if country == 'FI' else 'post'}@{domain}"
        if from_registry:
            row["registry_source"] = "ytj" if country == "FI" else "bizweb"
            row["registry_fetched_at"] = self._moment(700, 0)
            draw = chance()
            row["registry_status"] = (
                "bankrupt"
                if draw < 0.015
                else "liquidation"
                if draw < 0.03
                else "ceased"
                if inactivated and draw < 0.5
                else "active"
            )
        return row, profile, city, domain

    def _addresses(self, customer: dict[str, Any], city: tuple, out: list) -> None:
        """Visiting and postal address (a PO box or the same street), sometimes billing."""
        rng = self.rng
        country, customer_id = customer["country"], customer["id"]
        name, _weight, _area, po_code, streets = city
        street, code = rng.choice(streets)
        visiting = self._street(country, street)
        out.append(
            {"customer_id": customer_id, "kind": "visiting", "street": visiting,
             "postal_code": code, "city": name, "country": country}
        )  # fmt: skip
        if rng.random() < 0.45:
            visiting, code = self._po_box(country), po_code
        out.append(
            {"customer_id": customer_id, "kind": "postal", "street": visiting,
             "postal_code": code, "city": name, "country": country}
        )  # fmt: skip
        if rng.random() < 0.2:  # e.g. the accounting firm's address
            cities = FI_CITIES if country == "FI" else NO_CITIES
            name, _weight, _area, _po, streets = self._weighted(
                cities, self.city_cumulative[country]
            )
            street, code = rng.choice(streets)
            out.append(
                {"customer_id": customer_id, "kind": "billing",
                 "street": self._street(country, street), "postal_code": code, "city": name,
                 "country": country}
            )  # fmt: skip

    def _einvoice_addresses(self, customer: dict[str, Any], out: list) -> None:
        """OVT (0037 + business ID digits) with an operator in FI, PEPPOL 0192:orgnr in NO."""
        rng = self.rng
        country, customer_id, business_id = (
            customer["country"], customer["id"], customer["business_id"]
        )  # fmt: skip
        if rng.random() >= (0.65 if country == "FI" else 0.55):
            return
        if country == "NO":
            out.append(
                {"customer_id": customer_id, "address": f"0192:{business_id}",
                 "operator": "PEPPOL", "is_default": True}
            )  # fmt: skip
            return
        ovt = "0037" + business_id.replace("-", "")
        operator = self._weighted(FI_OPERATORS, self.operator_cumulative)[0]
        out.append(
            {"customer_id": customer_id, "address": ovt, "operator": operator,
             "is_default": True}
        )  # fmt: skip
        if rng.random() < 0.1:  # a second unit, e.g. the accounts department
            operator = self._weighted(FI_OPERATORS, self.operator_cumulative)[0]
            out.append(
                {"customer_id": customer_id, "address": f"{ovt}{rng.randint(1, 20):03d}",
                 "operator": operator, "is_default": False}
            )  # fmt: skip

    def _contacts(self, customer: dict[str, Any], domain: str, out: list) -> None:
        rng = self.rng
        chance = rng.random
        if customer["country"] == "FI":
            firsts, lasts, titles = FI_FIRST_NAMES, FI_LAST_NAMES, FI_TITLES
        else:
            firsts, lasts, titles = NO_FIRST_NAMES, NO_LAST_NAMES, NO_TITLES
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4))):
            first, last = rng.choice(firsts), rng.choice(lasts)
            email = f"{_email_part(first)}.{_email_part(last)}@{domain}"
            out.append(
                {"customer_id": customer["id"], "first_name": first, "last_name": last,
                 "title": rng.choice(titles) if chance() < 0.85 else None,
                 "email": email if chance() < 0.9 else None,
                 "phone": self._phone(customer["country"], None) if chance() < 0.8 else None,
                 "is_active": chance() < 0.9}
            )  # fmt: skip

    def _segments(self, customer: dict[str, Any], out: list) -> None:
        roll = self.rng.random()
        wanted = 0 if roll < 0.25 else 1 if roll < 0.8 else 2
        chosen: list[int] = []
        while len(chosen) < min(wanted, len(self.refs.segments)):
            segment = self._weighted(self.refs.segments, self.segment_cumulative)
            if segment not in chosen:
                chosen.append(segment)
        out.extend({"customer_id": customer["id"], "segment_id": s} for s in chosen)

    # --- projects, proposals, invoices, costs -------------------------------------------------

    def _projects(
        self,
        customers: list[tuple[dict[str, Any], str]],
        sizes: list[float],
        target: int,
        take_ids: Callable[[int], list[int]],
        rows: dict[str, list[dict[str, Any]]],
    ) -> tuple[list[tuple[dict[str, Any], bool]], list[list[int]]]:
        """Projects and sales cases with their proposals: ``target`` of them in all.

        Returns the projects (row, of a dormant customer) and, per customer, the ids of the
        projects it can be invoiced for.
        """
        rng = self.rng
        chance = rng.random
        # Every prospect has a sales case in progress; the rest go by the customers' size.
        prospects = [i for i, (_, profile) in enumerate(customers) if profile == "prospect"]
        first_cases = prospects[:target]
        weights = [size * PROJECT_WEIGHT[p] for size, (_, p) in zip(sizes, customers, strict=True)]
        counts = _spread(rng, target - len(first_cases), weights)
        for i in first_cases:
            counts[i] += 1
        ids = iter(take_ids(sum(counts)))
        years = (self.today.year - 1, self.today.year)
        projects: list[tuple[dict[str, Any], bool]] = []
        billable: list[list[int]] = [[] for _ in customers]
        for index, ((customer, profile), count) in enumerate(zip(customers, counts, strict=True)):
            for n in range(count):
                internal = False
                if profile == "prospect":
                    kind = "sales_case"
                    status = "in_progress" if n == 0 or chance() < 0.6 else "lost"
                    closed = status == "lost" and chance() < 0.8
                elif profile == "dormant":  # everything is over
                    kind = "project" if chance() < 0.5 else "sales_case"
                    status = "won" if kind == "project" or chance() < 0.5 else "lost"
                    closed = True
                elif chance() < 0.04:
                    internal, kind, status, closed = True, "project", "won", chance() < 0.2
                else:
                    kind = "sales_case" if chance() < 0.44 else "project"
                    statuses = SALES_CASE_STATUSES if kind == "sales_case" else PROJECT_STATUSES
                    status = _pick(chance(), statuses)
                    closed = chance() < CLOSED_SHARE[kind, status]
                year = rng.choice(years)
                if internal:
                    name = rng.choice(INTERNAL_PROJECT_NAMES).format(year=year)
                else:
                    name = rng.choice(PROJECT_NAMES).format(year=year)
                    if kind == "sales_case" and chance() < 0.3:
                        name = f"Tender: {name}"
                owner = customer["owner_id"]
                row = {
                    "id": next(ids),
                    "customer_id": customer["id"],
                    "name": name,
                    "manager_id": owner if chance() < 0.65 else rng.choice(self.project_managers),
                    "is_internal": internal,
                    "kind": kind,
                    "sales_status": status,
                    "is_closed": closed,
                }
                rows["project"].append(row)
                projects.append((row, profile == "dormant"))
                if not internal and (status == "won" or (kind == "project" and status != "lost")):
                    billable[index].append(row["id"])
                if not internal and chance() < PROPOSAL_SHARE[kind, status]:
                    for _ in range(1 if chance() < 0.85 else 2):
                        created = self._moment(300 if profile == "prospect" else 700)
                        rows["proposal"].append(
                            {"project_id": row["id"],
                             "number": f"{created.year}-{self.proposal_number:05d}",
                             "created_at": created, "total": self._money(8.5, 1.0, 300, 900_000)}
                        )  # fmt: skip
                        self.proposal_number += 1
        return projects, billable

    def _invoices(
        self,
        customers: list[tuple[dict[str, Any], str]],
        sizes: list[float],
        billable: list[list[int]],
        target: int,
        out: list,
    ) -> None:
        """``target`` invoices: none for prospects, only last year's for dormant customers."""
        rng = self.rng
        chance = rng.random
        weights = [size * INVOICE_WEIGHT[p] for size, (_, p) in zip(sizes, customers, strict=True)]
        days, recent, last_year = self.days, self.recent_days, self.last_year_days
        status_mix, numberless, approved = self.invoice_status_mix, self.numberless, self.approved
        for (customer, profile), count, projects in zip(
            customers, _spread(rng, target, weights), billable, strict=True
        ):
            customer_id, dormant = customer["id"], profile == "dormant"
            for _ in range(count):
                if dormant:
                    day = last_year[int(chance() * len(last_year))]
                elif chance() < 0.12:
                    day = recent[int(chance() * len(recent))]
                else:
                    day = days[int(chance() * len(days))]
                status = _pick(chance(), status_mix[day])
                if status in numberless or (status == approved and chance() < 0.5):
                    number = None
                else:
                    number = str(self.invoice_number)
                    self.invoice_number += 1
                project = None
                if projects and chance() < 0.85:
                    project = projects[int(chance() * len(projects))]
                out.append(
                    {"customer_id": customer_id, "project_id": project, "number": number,
                     "date": day, "status_id": status, "total": self._money(6.9, 1.0, 40, 250_000)}
                )  # fmt: skip

    def _costs(self, projects: list[tuple[dict[str, Any], bool]], target: int, out: list) -> None:
        """``target`` costs, mostly on delivery projects, some presales on sales cases."""
        chance = self.rng.random
        weights = [
            3.0 if row["is_internal"] else COST_WEIGHT[row["kind"], row["sales_status"]]
            for row, _dormant in projects
        ]
        for (row, dormant), count in zip(projects, _spread(self.rng, target, weights), strict=True):
            days = self.last_year_days if dormant else self.days
            for _ in range(count):
                out.append(
                    {"project_id": row["id"], "date": days[int(chance() * len(days))],
                     "amount": self._money(6.2, 1.0, 10, 150_000)}
                )  # fmt: skip


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


_TABLES = (
    ("customer", Customer.__table__),
    ("address", Address.__table__),
    ("einvoice", EInvoiceAddress.__table__),
    ("contact", Contact.__table__),
    ("segment", customer_segment),
    ("project", Project.__table__),
    ("proposal", Proposal.__table__),
    ("invoice", Invoice.__table__),
    ("cost", Cost.__table__),
)
_TABLE_KEYS = tuple(key for key, _table in _TABLES)
_INSERT_BATCH = 10_000


def _plain_defaults(table: Table, columns: list[str]) -> dict[str, Any] | None:
    """The Python-side defaults of the columns that ``columns`` leaves out (``COPY`` does not
    apply them; server defaults apply by themselves); None when one is not a plain value."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in columns or column.default is None:
            continue
        if not column.default.is_scalar:
            return None
        defaults[column.name] = column.default.arg
    return defaults


def _bulk_insert(table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction.

    PostgreSQL with psycopg 3 gets ``COPY ... FROM STDIN`` (several times faster than a
    multi-row ``INSERT``); other databases get ``executemany`` through SQLAlchemy.
    """
    if not rows:
        return
    connection = db.session.connection()
    columns = list(rows[0])
    defaults = _plain_defaults(table, columns)
    if (
        connection.dialect.name == "postgresql"
        and connection.dialect.driver == "psycopg"
        and defaults is not None
    ):
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(map(sql.Identifier, [*columns, *defaults])),
        )
        extra = list(defaults.values())
        with (
            connection.connection.driver_connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row([*(row[column] for column in columns), *extra])
        return
    for start in range(0, len(rows), _INSERT_BATCH):
        db.session.execute(insert(table), rows[start : start + _INSERT_BATCH])


def generate(
    customers: int,
    seed: int = 42,
    progress: Callable[[int], None] | None = None,
    *,
    today: date | None = None,
    projects_per_customer: float = PROJECTS_PER_CUSTOMER,
    invoices_per_customer: float = INVOICES_PER_CUSTOMER,
    costs_per_customer: float = COSTS_PER_CUSTOMER,
    chunk_size: int = CHUNK_SIZE,
) -> DemoSummary:
    """Create ``customers`` demo customers with everything that hangs on them.

    Call inside an app context. Seeds the default settings, makes the demo users, industries
    and market segments that are missing, then inserts the customers in chunks of
    ``chunk_size``, committing each chunk and calling ``progress(n)`` with the number of
    customers just committed. Totals of projects, invoices and costs are the per-customer
    ratios times ``customers`` (rounded). Invoices and costs are dated from 1 January of last
    year up to ``today`` (default: today in ``CUSTREG_TIMEZONE``).
    """
    if customers < 0:
        raise ValueError("customers must not be negative")
    if min(projects_per_customer, invoices_per_customer, costs_per_customer) < 0:
        raise ValueError("per-customer ratios must not be negative")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    started = time.perf_counter()
    today = today or local_today(current_app.config["CUSTREG_TIMEZONE"])
    summary = DemoSummary(seed=seed)
    refs = _settings_refs(customers, summary)

    first_number = next_customer_number()
    taken_ids = {
        value
        for value in db.session.scalars(
            select(Customer.business_id).where(Customer.business_id.is_not(None))
        )
    }
    taken_names = set(db.session.scalars(select(Customer.name)))
    numbered = db.session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.number.is_not(None))
    )
    proposals = db.session.scalar(select(func.count()).select_from(Proposal))
    # The same seed on an empty database gives the same data; a second run (numbers going on
    # from the first) gives other companies.
    rng = random.Random(seed if first_number == FIRST_CUSTOMER_NUMBER else f"{seed}/{first_number}")
    generator = _Generator(
        rng,
        refs,
        today,
        taken_ids=taken_ids,
        taken_names=taken_names,
        invoice_number=FIRST_INVOICE_NUMBER + numbered,
        proposal_number=proposals + 1,
    )
    customer_ids = _IdSource(Customer.__table__)
    project_ids = _IdSource(Project.__table__)

    done = 0
    while done < customers:
        size = min(chunk_size, customers - done)
        targets = tuple(
            round(ratio * (done + size)) - round(ratio * done)
            for ratio in (projects_per_customer, invoices_per_customer, costs_per_customer)
        )
        numbers = range(first_number + done, first_number + done + size)
        try:
            rows = generator.build(numbers, customer_ids.take(size), project_ids.take, targets)
            for key, table in _TABLES:
                _bulk_insert(table, rows[key])
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        summary.customers += size
        summary.inactivated += sum(1 for row in rows["customer"] if not row["is_active"])
        summary.addresses += len(rows["address"])
        summary.einvoice_addresses += len(rows["einvoice"])
        summary.contacts += len(rows["contact"])
        summary.segment_links += len(rows["segment"])
        summary.projects += len(rows["project"])
        summary.sales_cases += sum(1 for row in rows["project"] if row["kind"] == "sales_case")
        summary.internal_projects += sum(1 for row in rows["project"] if row["is_internal"])
        summary.proposals += len(rows["proposal"])
        summary.invoices += len(rows["invoice"])
        summary.costs += len(rows["cost"])
        done += size
        if progress is not None:
            progress(size)
    if customers:
        summary.first_number, summary.last_number = first_number, first_number + customers - 1
    summary.seconds = time.perf_counter() - started
    return summary
