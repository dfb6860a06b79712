"""The demo's word lists and reference data: industries, market segments, cities and streets,
people's names, titles, company name parts, e-invoicing operators, project names, notes and the
demo users."""

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

TRANSLITERATION = str.maketrans(
    {"ä": "a", "ö": "o", "å": "a", "ø": "o", "æ": "ae", "é": "e", "ü": "u", "&": "-", " ": "-"}
)
