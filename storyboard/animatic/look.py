"""What the storyboard's words look like in an animatic: garments and their colours, hair, props,
the set, the light and the weather. Pure: words in, small frozen records out."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

RGB = tuple[int, int, int]

COLOURS: dict[str, RGB] = {
    "yellow": (232, 196, 40), "navy": (34, 44, 84), "red": (196, 40, 40), "green": (60, 128, 64),
    "orange": (236, 118, 30), "grey": (128, 128, 132), "gray": (128, 128, 132), "black": (30, 30, 34),
    "white": (236, 236, 232), "blue": (48, 92, 180), "brown": (110, 72, 42), "tan": (196, 160, 110),
    "beige": (214, 196, 160), "khaki": (170, 158, 108), "olive": (110, 112, 50), "maroon": (110, 28, 38),
    "burgundy": (120, 30, 50), "pink": (230, 140, 170), "purple": (110, 60, 150), "violet": (130, 80, 190),
    "teal": (30, 120, 120), "cyan": (60, 190, 210), "magenta": (200, 50, 160), "silver": (190, 192, 198),
    "gold": (214, 172, 60), "golden": (214, 172, 60), "brass": (190, 150, 70), "copper": (184, 110, 60),
    "cream": (240, 228, 200), "charcoal": (54, 56, 60), "denim": (70, 100, 150), "scarlet": (220, 30, 40),
    "crimson": (170, 20, 40), "lime": (150, 210, 60), "mustard": (200, 160, 40), "rust": (170, 80, 40),
    "ivory": (240, 236, 220), "sand": (210, 190, 150), "slate": (90, 100, 112), "indigo": (60, 50, 130),
    "turquoise": (60, 200, 190), "lilac": (190, 160, 210), "peach": (240, 180, 140), "wine": (110, 30, 50),
    "blonde": (226, 200, 130), "blond": (226, 200, 130), "auburn": (140, 60, 30), "ginger": (200, 100, 40),
    "chestnut": (120, 60, 30), "platinum": (228, 226, 216), "dark": (40, 36, 34), "fair": (220, 196, 140),
}
NEON_YELLOW: RGB = (214, 240, 40)

# garment nouns -> (kind, default colour or None). Kinds: long (coat to the knee), jacket, top, vest,
# dress, trousers, hat
GARMENTS: dict[str, tuple[str, RGB | None]] = {
    "coat": ("long", None), "oilskin": ("long", (232, 196, 40)), "raincoat": ("long", None),
    "overcoat": ("long", None), "trench": ("long", (170, 140, 100)), "parka": ("long", None),
    "mac": ("long", None), "cloak": ("long", None), "robe": ("long", None), "gown": ("dress", None),
    "jacket": ("jacket", None), "bomber": ("jacket", None), "blazer": ("jacket", None),
    "anorak": ("jacket", None), "windbreaker": ("jacket", None), "suit": ("jacket", None),
    "uniform": ("jacket", None), "sweater": ("top", None), "jumper": ("top", None),
    "hoodie": ("top", None), "shirt": ("top", (220, 220, 214)), "t-shirt": ("top", None),
    "tee": ("top", None), "top": ("top", None), "blouse": ("top", None), "cardigan": ("top", None),
    "pullover": ("top", None), "fleece": ("top", None), "vest": ("vest", None), "waistcoat": ("vest", None),
    "gilet": ("vest", None), "apron": ("vest", (236, 236, 232)), "dress": ("dress", None),
    "skirt": ("skirt", None), "jeans": ("trousers", (70, 100, 150)), "trousers": ("trousers", None),
    "pants": ("trousers", None), "slacks": ("trousers", None), "overalls": ("trousers", None),
    "shorts": ("trousers", None), "hat": ("hat", None), "cap": ("hat", None), "beanie": ("hat", None),
    "helmet": ("hat", None), "hood": ("hat", None), "sou'wester": ("hat", (232, 196, 40)),
}
# words that say a garment is not being worn in this clause
NOT_WORN = ("hung", "hook", "hanging", "lap", "removed", "off,", "discarded", "folded", "balled", "on the chair",
            "on the floor", "in his hand", "in her hand", "in their hand", "over his arm", "over her arm")

PROPS: dict[str, str] = {  # words -> the drawn shape
    "lantern": "lantern", "lamp": "lantern", "torch": "torch", "flashlight": "torch", "candle": "lantern",
    "backpack": "backpack", "rucksack": "backpack", "bag": "bag", "satchel": "bag", "briefcase": "bag",
    "suitcase": "bag", "handbag": "bag", "purse": "bag", "phone": "phone", "handset": "phone",
    "radio": "phone", "walkie": "phone", "microphone": "phone", "mic": "phone", "cup": "cup", "mug": "cup",
    "tea": "cup", "coffee": "cup", "flask": "flask", "thermos": "flask", "bottle": "flask", "glass": "cup",
    "book": "book", "notebook": "book", "letter": "book", "envelope": "book", "map": "book", "chart": "book",
    "photo": "book", "photograph": "book", "paper": "book", "newspaper": "book", "umbrella": "umbrella",
    "gun": "gun", "pistol": "gun", "revolver": "gun", "rifle": "gun", "knife": "knife", "key": "key",
    "keys": "key", "coins": "coins", "coin": "coins", "money": "coins", "wallet": "coins", "cash": "coins",
    "headphones": "headphones", "headset": "headphones", "camera": "camera", "cigarette": "cigarette",
    "kettle": "flask", "cloth": "book", "rag": "book", "ring": "key", "watch": "key", "clock": "key",
}
PROP_COLOURS: dict[str, RGB] = {"lantern": (190, 150, 70), "backpack": (60, 70, 80), "torch": (70, 70, 76),
                                "phone": (40, 40, 44), "cup": (236, 236, 232), "flask": (150, 156, 160),
                                "book": (236, 228, 200), "umbrella": (30, 30, 34), "gun": (40, 40, 44),
                                "knife": (190, 192, 198), "key": (214, 172, 60), "coins": (214, 172, 60),
                                "headphones": (30, 30, 34), "camera": (30, 30, 34), "cigarette": (240, 240, 236),
                                "bag": (110, 72, 42)}

FEMALE = ("woman", "women", "female", "feminine", "girl", "she", "her", "hers", "lady", "mother", "mum", "mom",
          "grandmother", "granny", "gran", "aunt", "sister", "daughter", "wife", "queen", "widow", "actress",
          "waitress", "nun", "matron", "heroine", "mistress", "niece", "bride", "madam", "madame")
MALE = ("man", "men", "male", "masculine", "boy", "he", "his", "him", "gentleman", "father", "dad",
        "grandfather", "grandpa", "uncle", "brother", "son", "husband", "king", "widower", "actor", "waiter",
        "monk", "priest", "hero", "master", "nephew", "groom", "sir", "lad", "bloke", "guy")
OLD = ("old", "older", "elderly", "aged", "ageing", "aging", "sixties", "seventies", "eighties", "nineties",
       "grandmother", "grandfather", "granny", "grandpa", "gran", "veteran", "retired", "crone", "ancient",
       "weathered", "grey-haired", "gray-haired", "white-haired", "wizened", "fifties")
YOUNG = ("young", "youthful", "twenties", "teen", "teenage", "teenager", "student", "youth", "adolescent",
         "lanky", "junior", "rookie", "fresh-faced")
CHILD = ("child", "kid", "boy", "girl", "little", "toddler", "schoolboy", "schoolgirl", "infant")
ADULT = ("man", "men", "woman", "women", "adult", "grown", "grown-up", "lady", "gentleman", "mother", "father",
         "wife", "husband", "thirties", "forties", "middle-aged")

INTERIOR = ("room", "hut", "kitchen", "office", "inside", "interior", "cabin", "taxi", "car", "seats", "bar",
            "shop", "house", "apartment", "flat", "hall", "corridor", "stairs", "stairwell", "cockpit",
            "bedroom", "bathroom", "studio", "train", "bus", "church", "cafe", "restaurant", "lobby",
            "cellar", "basement", "attic", "garage", "warehouse", "lab", "library", "classroom", "ward",
            "hospital", "dashboard", "cab", "van", "truck", "tent", "booth", "lift", "elevator", "theatre")
VEHICLE = ("taxi", "car", "cab", "van", "truck", "dashboard", "front seats", "back seat", "driver")


@dataclass(frozen=True)
class Garment:
    kind: str  # long | jacket | top | vest | dress | skirt | trousers | hat
    colour: RGB
    hood: bool = False


@dataclass(frozen=True)
class Prop:
    shape: str
    colour: RGB
    label: str  # the noun as written: "lantern"


@dataclass(frozen=True)
class Figure:
    """One character as the animatic draws them: colours and shapes read from their words."""

    id: str
    name: str
    colour: RGB  # the character's colour across the film: outline, name chip
    female: bool | None
    age: str  # child | young | adult | old
    hair: RGB | None  # None: shaved or bald
    hair_style: str  # short | long | braid | bun | bald
    garments: tuple[Garment, ...]  # outermost first
    props: tuple[Prop, ...]
    glasses: bool = False
    wardrobe: str = ""
    props_words: str = ""
    portrait: str | None = None


@dataclass(frozen=True)
class Weather:
    rain: float = 0.0  # 0 none .. 1.5 downpour
    snow: float = 0.0
    fog: float = 0.0
    storm: bool = False  # lightning flashes
    wind: float = 0.0


@dataclass(frozen=True)
class SetLook:
    """The place: inside or out, what stands in it, the sky and light, the weather."""

    interior: bool
    vehicle: bool
    pieces: tuple[str, ...]  # sea, rocks, lighthouse, street, sign, trees, lens, console, charts, window, lamp
    sky: tuple[RGB, RGB]  # top, bottom
    night: bool
    weather: Weather = field(default_factory=Weather)
    time_words: str = ""


@lru_cache(maxsize=4096)  # the same few descriptions are read again for every shot and every question
def fold(text: str) -> str:
    """Lower case without accents, one apostrophe: "Café", "cafe\u0301" and "CAFE" are all "cafe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    return tuple(w[:-2] if w.endswith("'s") else w for w in re.findall(r"[a-z][a-z'-]*", fold(text)))


@lru_cache(maxsize=4096)
def _word_set(text: str) -> frozenset[str]:
    return frozenset(_words(text))


def words(text: str) -> list[str]:
    """Folded words (no case, no accents), hyphenated ones kept whole, possessives dropped ("man's" -> "man")."""
    return list(_words(text))


def has_any(text: str, vocab) -> bool:
    ws = _word_set(text)
    folded = fold(text)
    for v in vocab:
        if (" " in v and v in folded) or v in ws:
            return True
    return False


def colour_in(text: str) -> RGB | None:
    """The first colour word in a phrase ("high-visibility" counts as fluorescent yellow)."""
    for w in words(text):
        w = w.strip("'")
        if w in COLOURS:
            return COLOURS[w]
        if w in ("high-visibility", "hi-vis", "hivis", "fluorescent", "neon"):
            return NEON_YELLOW
    return None


def garments(wardrobe: str, fallback: RGB) -> tuple[Garment, ...]:
    """Worn garments, outermost first, each with the colour said next to it ("yellow oilskin coat
    over a navy fisherman's sweater" -> long yellow, top navy). A clause that hangs the garment on
    a hook or drops it in a lap is not worn."""
    out: list[Garment] = []
    seen: set[str] = set()
    for clause in re.split(r",|;|\bover\b|\bunder\b|\bwith\b|\band\b", fold(wardrobe)):
        if any(cue in clause + "," for cue in NOT_WORN):
            continue
        found = [(i, w) for i, w in enumerate(words(clause)) if w in GARMENTS or w.rstrip("s") in GARMENTS]
        if not found:
            continue
        _, noun = found[-1]
        noun = noun if noun in GARMENTS else noun.rstrip("s")
        kind, default = GARMENTS[noun]
        if kind in seen and kind not in ("top",):
            continue
        seen.add(kind)
        colour = colour_in(clause) or default or _shade(fallback, 0.55)
        out.append(Garment(kind, colour, hood=noun in ("hoodie", "parka", "anorak")))
    if not any(g.kind in ("long", "jacket", "top", "vest", "dress") for g in out):
        out.append(Garment("top", _shade(fallback, 0.55)))
    order = {"hat": 0, "long": 1, "jacket": 2, "vest": 3, "dress": 4, "top": 5, "skirt": 6, "trousers": 7}
    return tuple(sorted(out, key=lambda g: order[g.kind]))


def props(text: str) -> tuple[Prop, ...]:
    out: list[Prop] = []
    for clause in re.split(r",|;|\band\b", fold(text)):
        for w in words(clause):
            shape = PROPS.get(w)
            if shape and all(p.shape != shape for p in out):
                out.append(Prop(shape, colour_in(clause) or PROP_COLOURS[shape], w))
                break
    return tuple(out)


def prop_named_in(text: str) -> Prop | None:
    """The first prop a phrase (an action) names: what an insert shot shows."""
    found = props(text)
    return found[0] if found else None


def gender(*texts: str) -> bool | None:
    """True for a woman, False for a man, None when the words do not say; the first text that says wins."""
    for text in texts:
        ws = set(words(text))
        f, m = bool(ws & set(FEMALE)), bool(ws & set(MALE))
        if f != m:
            return f
    return None


NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
           "sixteen seventeen eighteen nineteen").split()
_YEARS = re.compile(r"\b(\d{1,3}|" + "|".join(NUMBERS) + r")[- ]years?[- ]old\b")


def _said(text: str) -> str | None:
    """The age the words give (child, young, old, adult), or None when they give none."""
    m = _YEARS.search(fold(text))
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else NUMBERS.index(m.group(1))
        return "child" if n <= 12 else "young" if n <= 25 else "old" if n >= 60 else "adult"
    ws = set(words(text))
    if ws & set(CHILD) and not ws & {"man", "woman"}:
        return "child"
    if ws & set(OLD):
        return "old"
    if ws & set(YOUNG):
        return "young"
    if ws & set(ADULT):
        return "adult"
    return None


def age(*texts: str) -> str:
    """The first age any of the texts gives (a voice's words before the description, for a voice)."""
    for text in texts:
        said = _said(text)
        if said and said != "adult":
            return said
    return "adult"


def body_age(description: str, voice: str) -> str:
    """How old a character looks: the description says; `voice:` only when it says nothing of age
    (`voice: girl` on a woman is a high voice, not a child's body)."""
    return _said(description) or _said(voice) or "adult"


def figure(cid: str, name: str, colour: RGB, description: str, wardrobe: str, props_words: str, voice: str,
           portrait: str | None = None) -> Figure:
    d = fold(description)
    years = body_age(description, voice)
    hair = None
    style = "short"
    if not has_any(d, ("shaved", "bald", "hairless")):
        hair = next((COLOURS[w] for w in words(_near(d, ("hair", "braid", "bun", "beard", "ponytail", "curls")))
                     if w in COLOURS), None) or ((176, 176, 180) if years == "old" else (60, 44, 34))
        if "braid" in d or "plait" in d:
            style = "braid"
        elif "bun" in words(d):
            style = "bun"
        elif "long" in _near(d, ("hair",)) or "ponytail" in d:
            style = "long"
    else:
        style = "bald"
    return Figure(id=cid, name=name, colour=colour, female=gender(voice, description), age=years, hair=hair,
                  hair_style=style, garments=garments(wardrobe if wardrobe.strip() else description, colour),
                  props=props(props_words),
                  glasses=has_any(d, ("glasses", "spectacles", "specs")), wardrobe=wardrobe.strip(),
                  props_words=props_words.strip(), portrait=portrait)


def _near(text: str, anchors: tuple[str, ...]) -> str:
    """The words of the clause that holds one of `anchors` ("a long grey braid" for braid)."""
    for clause in re.split(r",|;|\bwith\b|\band\b", text):
        if any(a in clause for a in anchors):
            return clause
    return ""


def _shade(c: RGB, k: float) -> RGB:
    return (int(c[0] * k), int(c[1] * k), int(c[2] * k))


SKIES: dict[str, tuple[RGB, RGB]] = {  # time-of-day words -> (top, bottom) colours of the sky
    "night": ((8, 12, 30), (30, 40, 72)), "midnight": ((6, 8, 22), (22, 28, 56)),
    "dawn": ((70, 80, 120), (222, 164, 150)), "sunrise": ((90, 100, 150), (240, 170, 110)),
    "dusk": ((50, 36, 76), (214, 116, 84)), "twilight": ((34, 36, 80), (150, 100, 130)),
    "golden": ((120, 90, 70), (244, 184, 96)), "sunset": ((66, 40, 74), (238, 128, 70)),
    "evening": ((36, 38, 78), (150, 100, 110)), "morning": ((110, 156, 206), (214, 224, 230)),
    "noon": ((70, 136, 214), (200, 224, 242)), "afternoon": ((90, 146, 206), (214, 226, 236)),
    "day": ((86, 140, 204), (204, 222, 238)),
}
DEFAULT_SKY: tuple[RGB, RGB] = ((70, 84, 104), (150, 160, 172))
DARK_TIMES = ("night", "midnight", "evening", "twilight", "dusk")


def _amount(text: str, word_set: tuple[str, ...]) -> float:
    """How much of a weather the words say: 0 none, 0.5 light, 1 plain, 1.5 heavy."""
    if not has_any(text, word_set):
        return 0.0
    if has_any(text, ("light", "thin", "thinning", "easing", "drizzle", "fine", "faint", "dying", "soft",
                      "gentle", "clearing", "patchy", "slight")):
        return 0.5
    if has_any(text, ("heavy", "pouring", "downpour", "lashing", "torrential", "driving", "thick", "dense",
                      "blizzard", "howling", "gale")):
        return 1.5
    return 1.0


def weather(text: str) -> Weather:
    t = fold(text)
    storm = has_any(t, ("storm", "stormy", "thunder", "thunderstorm", "lightning", "tempest"))
    rain = _amount(t, ("rain", "rainy", "raining", "drizzle", "downpour", "wet", "showers", "storm", "stormy",
                       "thunderstorm", "tempest"))
    easing = has_any(t, ("easing", "thinning", "clearing", "dying", "passing"))
    return Weather(rain=rain, snow=_amount(t, ("snow", "snowing", "snowy", "sleet", "blizzard", "flurries")),
                   fog=_amount(t, ("fog", "foggy", "mist", "misty", "haze", "hazy", "smog")),
                   storm=storm and not easing, wind=_amount(t, ("wind", "windy", "gale", "gusts", "storm", "breeze")))


def set_look(description: str, time: str, weather_words: str, lighting: str) -> SetLook:
    d = fold(description)
    interior = has_any(d, INTERIOR)
    vehicle = has_any(d, VEHICLE)
    pieces: list[str] = []
    table = {
        "sea": ("sea", "ocean", "waves", "surf", "shore", "beach", "coast", "harbour", "harbor", "bay", "rocks",
                "cliff", "skerry", "pier", "lighthouse"),
        "rocks": ("rocks", "rocky", "cliff", "cliffs", "skerry", "crag"),
        "lighthouse": ("lighthouse",), "street": ("street", "corner", "road", "avenue", "alley", "city", "town",
                                                  "square", "crossing", "pavement", "sidewalk"),
        "sign": ("sign", "neon", "billboard"), "trees": ("forest", "wood", "woods", "park", "garden", "tree",
                                                         "trees", "orchard", "jungle"),
        "lens": ("lens", "fresnel"), "console": ("radio", "dials", "console", "equipment", "monitors", "desk"),
        "charts": ("charts", "maps", "posters", "pinned", "photos", "noticeboard"),
        "lamp": ("lamp", "bulb", "lantern", "candle", "light"), "door": ("door", "doorway"),
    }
    for piece, vocab in table.items():
        if has_any(d, vocab):
            pieces.append(piece)
    if interior and not vehicle:
        pieces.append("window")
    t = fold(time)
    sky = next((v for k, v in SKIES.items() if k in t), None)
    if sky is None:
        sky = next((v for k, v in SKIES.items() if k in fold(lighting)), DEFAULT_SKY)
    night = has_any(t, DARK_TIMES)
    w = weather(weather_words)
    if w.rain or w.snow or w.storm:  # clouds: a greyer, darker sky
        sky = tuple(_mix(c, (70, 74, 84), 0.45 if not night else 0.25) for c in sky)  # type: ignore[assignment]
    return SetLook(interior=interior, vehicle=vehicle, pieces=tuple(pieces), sky=sky, night=night, weather=w,
                   time_words=time)


def _mix(a: RGB, b: RGB, k: float) -> RGB:
    return (int(a[0] + (b[0] - a[0]) * k), int(a[1] + (b[1] - a[1]) * k), int(a[2] + (b[2] - a[2]) * k))
