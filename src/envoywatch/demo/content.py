"""What the simulated accounts talk about: narratives by period, texts in several languages, hashtags, links.

All of it is invented for the demonstration. The narratives follow the shifts described in public research
on Chinese diplomatic accounts (benevolent pandemic aid in early 2020, then blame of the US for the virus's
origin; Hong Kong; Xinjiang), so that the analyses have something realistic to find, but no text here is a
quote of a real post.
"""

from __future__ import annotations

from datetime import datetime

START = datetime(2019, 6, 1)
MONTHS = 25  # 2019-06 .. 2021-06
END = datetime(2021, 7, 1)


def month_start(m: int) -> datetime:
    y, mo = divmod(START.month - 1 + m, 12)
    return datetime(START.year + y, mo + 1, 1)


# narrative -> weight per month index (0 = 2019-06); the generator normalises the weights of each month
def _ramp(m: int, start: int, peak: int, end: int, top: float) -> float:
    if m < start or m > end:
        return 0.0
    if m <= peak:
        return top * (m - start + 1) / (peak - start + 1)
    return top * max(0.15, 1 - (m - peak) / max(1, end - peak + 1))


NARRATIVES = {
    "cooperation": lambda m: 3.0 if m < 8 else 1.6,
    "hong_kong": lambda m: _ramp(m, 1, 5, 14, 2.5),
    "xinjiang": lambda m: _ramp(m, 5, 10, 24, 1.6) + (0.8 if m >= 21 else 0.0),
    "pandemic_aid": lambda m: _ramp(m, 8, 10, 16, 4.0),
    "covid_origin": lambda m: _ramp(m, 9, 13, 24, 3.2),
    "vaccines": lambda m: _ramp(m, 18, 22, 24, 2.6),
}
NARRATIVE_NAMES = list(NARRATIVES)

# (narrative, lang) -> texts; hashtags are part of the text and are extracted from it
TEXTS: dict[tuple[str, str], list[str]] = {
    ("cooperation", "en"): [
        "China stands ready to work with all partners for win-win cooperation. #BeltAndRoad #WinWin",
        "A new railway link opens today, another milestone of our friendship. #BeltAndRoad",
        "Trade between our two countries grew again this year. Mutual benefit is the key. #WinWin",
        "Multilateralism is the right answer to the challenges of our time. #Multilateralism",
    ],
    ("cooperation", "zh"): [
        "中国愿同各方一道，推动共建“一带一路”高质量发展。#一带一路",
        "互利共赢是中外合作的本质。#合作共赢",
    ],
    ("cooperation", "es"): [
        "China está dispuesta a trabajar con todos los socios para una cooperación de beneficio mutuo. #FranjayRuta",
        "Un nuevo proyecto de infraestructura fortalece nuestra amistad. #CooperaciónSurSur",
    ],
    ("cooperation", "fr"): [
        "La Chine est prête à travailler avec ses partenaires pour une coopération gagnant-gagnant. #CeintureEtRoute",
    ],
    ("hong_kong", "en"): [
        "Hong Kong affairs are China's internal affairs. No foreign interference! #HongKong",
        "Violence and chaos must stop in Hong Kong. Support the police in restoring order. #StopViolence #HongKong",
        "The national security law protects the vast majority of Hong Kong residents. #HongKong",
    ],
    ("hong_kong", "zh"): [
        "香港事务纯属中国内政，任何外国无权干涉。#香港",
        "止暴制乱、恢复秩序是香港当前最紧迫的任务。#香港 #止暴制乱",
    ],
    ("hong_kong", "es"): [
        "Los asuntos de Hong Kong son asuntos internos de China. #HongKong",
    ],
    ("xinjiang", "en"): [
        "Xinjiang enjoys stability and development. Lies about Xinjiang will not stand. #Xinjiang",
        "Visit Xinjiang and see for yourself: people live happy lives. #Xinjiang #XinjiangIsAGreatLand",
        "The so-called forced labor is a lie fabricated by anti-China forces. #Xinjiang #StopXinjiangRumors",
    ],
    ("xinjiang", "zh"): [
        "新疆各族人民安居乐业，谎言终将破产。#新疆",
    ],
    ("xinjiang", "fr"): [
        "Le Xinjiang connaît stabilité et développement. Les mensonges ne tiendront pas. #Xinjiang",
    ],
    ("xinjiang", "ar"): [
        "شينجيانغ تنعم بالاستقرار والتنمية. #شينجيانغ #Xinjiang",
    ],
    ("pandemic_aid", "en"): [
        "Another batch of medical supplies donated by China arrived today. Together we fight! #FightCOVID19 #ChinaAid",
        "China's medical team shares its experience with local doctors. #FightCOVID19 #TogetherWeFight",
        "Masks and ventilators from China landed this morning. A friend in need is a friend indeed. #COVID19 #ChinaAid",
        "Stay strong, Wuhan! The whole nation stands with you. #StayStrongWuhan #FightCOVID19",
    ],
    ("pandemic_aid", "zh"): [
        "又一批中国援助的抗疫物资今天运抵。#抗击新冠肺炎",
        "武汉加油！中国加油！#武汉加油",
    ],
    ("pandemic_aid", "es"): [
        "Llegó hoy otro lote de suministros médicos donados por China. #COVID19 #JuntosVenceremos",
        "Médicos chinos comparten su experiencia con colegas locales. #COVID19 #ChinaAyuda",
    ],
    ("pandemic_aid", "fr"): [
        "Un nouveau lot de matériel médical offert par la Chine est arrivé. #COVID19 #Solidarité",
    ],
    ("pandemic_aid", "ar"): [
        "وصلت اليوم دفعة جديدة من المساعدات الطبية الصينية. #كورونا #COVID19",
    ],
    ("covid_origin", "en"): [
        "When did patient zero begin in the US? Why close Fort Detrick? The US owes the world an answer. #FortDetrick #COVID19",
        "The origin of the virus is a scientific question. Stop politicizing it and look at US biolabs. #COVID19 #USBiolabs",
        "The US handling of the pandemic is a failure. Stop shifting the blame to China. #COVID19",
        "Early cases in Europe and the US predate Wuhan. Origin tracing must cover the US too. #FortDetrick",
    ],
    ("covid_origin", "zh"): [
        "美国零号病人何时出现？为何关闭德特里克堡？美方欠世界一个解释。#德特里克堡",
        "溯源是科学问题，不应政治化。#新冠溯源",
    ],
    ("covid_origin", "es"): [
        "¿Cuándo comenzó el paciente cero en EE.UU.? ¿Por qué cerraron Fort Detrick? #FortDetrick #COVID19",
    ],
    ("covid_origin", "ru"): [
        "Почему закрыли Форт-Детрик? США должны ответить миру. #FortDetrick #COVID19",
    ],
    ("vaccines", "en"): [
        "Chinese vaccines arrived today. China keeps its promise to make vaccines a global public good. #ChinaVaccine",
        "Vaccine cooperation saves lives. No to vaccine nationalism! #ChinaVaccine #VaccineCooperation",
    ],
    ("vaccines", "zh"): [
        "中国疫苗今天运抵，中方践行疫苗作为全球公共产品的承诺。#中国疫苗",
    ],
    ("vaccines", "es"): [
        "Llegaron hoy las vacunas chinas. #VacunaChina #COVID19",
    ],
    ("vaccines", "ar"): [
        "وصلت اللقاحات الصينية اليوم. #اللقاح_الصيني",
    ],
}
LANGS = ["en", "zh", "es", "fr", "ar", "ru"]

ORGANIC_TEXTS = [
    "Great match last night, what a finish!",
    "Reading this thread on supply chains, worth it",
    "Anyone else working from home this week?",
    "Coffee first, then emails.",
    "Interesting take on the trade talks here",
    "My city is finally getting a new metro line",
    "Lockdown day 12, baking bread again #lockdown",
    "Vaccination appointment booked! #COVID19",
    "Beautiful sunset over the harbour tonight #photography",
    "This is a good summary of the week's news",
]
REPLY_TEXTS = [
    "Is this true? Source please.",
    "Thank you China for the help!",
    "This is propaganda.",
    "Interesting, I did not know that.",
    "What about press freedom?",
    "Well said, ambassador.",
]

# link targets: state media (as registries classify them) and ordinary sites
STATE_MEDIA_DOMAINS = ["globaltimes.cn", "cgtn.com", "xinhuanet.com", "chinadaily.com.cn", "rt.com",
                       "sputniknews.com", "presstv.ir", "telesurtv.net"]
CHINESE_STATE_MEDIA = ["globaltimes.cn", "cgtn.com", "xinhuanet.com", "chinadaily.com.cn"]
OFFICIAL_DOMAINS = ["fmprc.gov.cn", "who.int"]
ORGANIC_DOMAINS = ["reuters.com", "bbc.co.uk", "nytimes.com", "theguardian.com", "aljazeera.com", "medium.com",
                   "youtube.com", "scmp.com"]
LINK_HOSTS = {
    "globaltimes.cn": "www.globaltimes.cn", "cgtn.com": "news.cgtn.com", "xinhuanet.com": "www.xinhuanet.com",
    "chinadaily.com.cn": "www.chinadaily.com.cn", "rt.com": "www.rt.com", "sputniknews.com": "sputniknews.com",
    "presstv.ir": "www.presstv.ir", "telesurtv.net": "www.telesurtv.net", "fmprc.gov.cn": "www.fmprc.gov.cn",
    "who.int": "www.who.int", "reuters.com": "www.reuters.com", "bbc.co.uk": "www.bbc.co.uk",
    "nytimes.com": "www.nytimes.com", "theguardian.com": "www.theguardian.com", "aljazeera.com": "www.aljazeera.com",
    "medium.com": "medium.com", "youtube.com": "m.youtube.com", "scmp.com": "www.scmp.com",
}
ALL_LINK_DOMAINS = STATE_MEDIA_DOMAINS + OFFICIAL_DOMAINS + ORGANIC_DOMAINS
ARTICLES_PER_DOMAIN = 60


def article_urls(domain: str) -> list[str]:
    """A fixed pool of article links per domain (some with tracking parameters, as shared links have)."""
    host = LINK_HOSTS[domain]
    out = []
    for i in range(ARTICLES_PER_DOMAIN):
        if domain == "youtube.com":
            u = f"https://{host}/watch?v=sim{i:05d}"
        else:
            u = f"https://{host}/simulated/article-{i:04d}.html"
        if i % 4 == 1:
            u += ("&" if "?" in u else "?") + "utm_source=twitter&utm_medium=social"
        out.append(u)
    return out


# host countries for generated Chinese missions (ISO 3166-1 alpha-2) and the language they post in
MISSION_COUNTRIES = [
    ("KE", "en"), ("ZA", "en"), ("NG", "en"), ("ET", "en"), ("GH", "en"), ("ZW", "en"), ("UG", "en"), ("TZ", "en"),
    ("EG", "ar"), ("SA", "ar"), ("AE", "ar"), ("IQ", "ar"), ("LB", "ar"), ("MA", "fr"), ("DZ", "fr"), ("TN", "fr"),
    ("SN", "fr"), ("CI", "fr"), ("CM", "fr"), ("FR", "fr"), ("BE", "fr"), ("CH", "fr"), ("CA", "en"), ("US", "en"),
    ("GB", "en"), ("IE", "en"), ("AU", "en"), ("NZ", "en"), ("IN", "en"), ("PK", "en"), ("BD", "en"), ("LK", "en"),
    ("NP", "en"), ("MY", "en"), ("SG", "en"), ("PH", "en"), ("ID", "en"), ("TH", "en"), ("MM", "en"), ("KH", "en"),
    ("AR", "es"), ("MX", "es"), ("CL", "es"), ("PE", "es"), ("CO", "es"), ("VE", "es"), ("CU", "es"), ("EC", "es"),
    ("BO", "es"), ("UY", "es"), ("PA", "es"), ("CR", "es"), ("DO", "es"), ("ES", "es"), ("BR", "en"), ("PT", "en"),
    ("DE", "en"), ("NL", "en"), ("SE", "en"), ("DK", "en"), ("NO", "en"), ("FI", "en"), ("PL", "en"), ("CZ", "en"),
    ("HU", "en"), ("RS", "en"), ("GR", "en"), ("IT", "en"), ("AT", "en"), ("TR", "en"), ("IR", "en"), ("RU", "ru"),
    ("KZ", "ru"), ("UZ", "ru"), ("BY", "ru"), ("UA", "ru"), ("MN", "en"), ("KR", "en"), ("JP", "en"), ("VN", "en"),
    ("LA", "en"), ("FJ", "en"), ("PG", "en"), ("JM", "en"), ("TT", "en"), ("GY", "en"), ("NA", "en"), ("ZM", "en"),
    ("MW", "en"), ("MZ", "en"), ("AO", "en"), ("RW", "fr"), ("MG", "fr"), ("ML", "fr"), ("NE", "fr"), ("TD", "fr"),
    ("GA", "fr"), ("CG", "fr"), ("CD", "fr"), ("BJ", "fr"), ("TG", "fr"), ("BF", "fr"), ("GN", "fr"), ("DJ", "fr"),
    ("MU", "en"), ("SC", "en"), ("LS", "en"), ("BW", "en"), ("SL", "en"), ("LR", "en"), ("GM", "en"), ("SS", "en"),
    ("SD", "ar"), ("JO", "ar"), ("KW", "ar"), ("QA", "ar"), ("OM", "ar"), ("BH", "ar"), ("YE", "ar"), ("LY", "ar"),
]

ORGANIC_NAMES = ["alex", "maria", "chen", "amina", "juan", "olga", "sam", "fatima", "li", "pierre", "kofi",
                 "ana", "omar", "sofia", "raj", "yuki", "ivan", "grace", "mehmet", "lucia"]
NETWORK_NAMES = ["lihua", "wangfang", "zhangwei", "liuyang", "chenjing", "yangli", "huangmin", "zhaolei",
                 "sunmei", "zhouqiang", "wujun", "xuhong"]
