"""Fixed reference data for the demo chains: real places, a realistic vending catalog, venue resource types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    city: str
    region: str
    country: str
    latitude: float
    longitude: float
    address: str
    venue_type: str
    weight: float  # share of the fleet placed here


# Twelve sites in Swedish cities (Europe/Stockholm, SEK), coordinates of the real places.
ACME_SITES: tuple[Site, ...] = (
    Site("STO-CEN", "Stockholm Central Station", "Stockholm", "Stockholm", "SE", 59.330231, 18.059196, "Centralplan 15", "transit", 1.6),
    Site("STO-ARN", "Arlanda Terminal 5", "Sigtuna", "Stockholm", "SE", 59.649762, 17.923781, "Terminal 5", "transit", 1.2),
    Site("STO-KIS", "Kista Science Tower", "Stockholm", "Stockholm", "SE", 59.403395, 17.944521, "Färögatan 33", "office", 1.0),
    Site("STO-KTH", "KTH Campus Valhallavägen", "Stockholm", "Stockholm", "SE", 59.349808, 18.070690, "Valhallavägen 79", "school", 0.9),
    Site("STO-SOL", "Friskis Solna", "Solna", "Stockholm", "SE", 59.360020, 18.000150, "Solna torg 3", "gym", 0.6),
    Site("GOT-CEN", "Göteborg Centralstation", "Göteborg", "Västra Götaland", "SE", 57.708870, 11.973150, "Drottningtorget 5", "transit", 1.1),
    Site("GOT-LIN", "Lindholmen Science Park", "Göteborg", "Västra Götaland", "SE", 57.706630, 11.938040, "Lindholmspiren 3", "office", 0.9),
    Site("GOT-CHA", "Chalmers Johanneberg", "Göteborg", "Västra Götaland", "SE", 57.689770, 11.974230, "Chalmersplatsen 4", "school", 0.8),
    Site("MAL-CEN", "Malmö Centralstation", "Malmö", "Skåne", "SE", 55.609070, 13.000130, "Carlsgatan 4", "transit", 1.0),
    Site("MAL-HYL", "Hyllie Emporia Offices", "Malmö", "Skåne", "SE", 55.563580, 12.975920, "Hyllie boulevard 19", "office", 0.7),
    Site("UPP-UNI", "Uppsala University Ångström", "Uppsala", "Uppsala", "SE", 59.839330, 17.647380, "Lägerhyddsvägen 1", "school", 0.7),
    Site("LIN-US", "Linköping University Hospital", "Linköping", "Östergötland", "SE", 58.401700, 15.620580, "Garnisonsvägen 10", "hospital", 0.8),
)

# Relative demand by ISO weekday (Mon..Sun) and by local hour, per kind of site.
WEEKDAY_PROFILE: dict[str, tuple[float, ...]] = {
    "transit": (1.05, 1.0, 1.0, 1.05, 1.2, 0.9, 0.8),
    "office": (1.1, 1.15, 1.15, 1.1, 0.95, 0.22, 0.18),
    "school": (1.15, 1.15, 1.15, 1.1, 0.9, 0.15, 0.1),
    "gym": (1.1, 1.1, 1.05, 1.0, 0.8, 0.95, 0.9),
    "hospital": (1.0, 1.0, 1.0, 1.0, 1.0, 0.85, 0.8),
}
HOUR_PROFILE: dict[str, tuple[float, ...]] = {
    #            0    1    2    3    4    5    6    7    8    9   10   11   12   13   14   15   16   17   18   19   20   21   22   23
    "transit": (0.3, 0.1, 0.05, 0.05, 0.1, 0.6, 2.0, 3.5, 3.8, 2.4, 1.6, 1.6, 2.0, 1.9, 1.6, 2.0, 3.2, 3.8, 3.0, 2.0, 1.5, 1.1, 0.8, 0.5),
    "office": (0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.3, 1.2, 2.4, 2.6, 3.0, 2.4, 3.4, 3.0, 2.6, 3.2, 2.2, 1.0, 0.4, 0.2, 0.1, 0.05, 0.0, 0.0),
    "school": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.8, 2.4, 2.8, 3.4, 3.6, 3.8, 3.0, 2.8, 2.6, 1.8, 1.0, 0.5, 0.3, 0.2, 0.1, 0.0, 0.0),
    "gym": (0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 1.8, 2.2, 1.6, 1.2, 1.0, 1.1, 1.6, 1.3, 1.0, 1.2, 2.2, 3.4, 3.8, 3.2, 2.4, 1.4, 0.6, 0.1),
    "hospital": (0.4, 0.3, 0.2, 0.2, 0.3, 0.5, 1.2, 2.2, 2.6, 2.4, 2.4, 2.6, 3.0, 2.8, 2.4, 2.4, 2.2, 2.0, 1.8, 1.6, 1.4, 1.2, 0.9, 0.6),
}
SITE_DEMAND = {"transit": 1.45, "office": 1.0, "school": 0.95, "gym": 0.75, "hospital": 1.1}
SITE_PRICE = {"transit": 1.1, "office": 1.0, "school": 0.95, "gym": 1.0, "hospital": 1.0}


@dataclass(frozen=True)
class MachineType:
    name: str
    cooler: bool
    rows: str
    columns: int
    categories: tuple[str, ...]
    daily_vends: float  # typical vends a day at an average site
    share: float  # share of the fleet


MACHINE_TYPES: tuple[MachineType, ...] = (
    MachineType("Snack Tower", False, "ABCDE", 8, ("Chocolate", "Crisps & nuts", "Biscuits & bars", "Candy", "Healthy snacks", "Gum & mints"), 17.0, 0.3),
    MachineType("Cold Drinks Cooler", True, "ABCDE", 6, ("Soft drinks", "Water", "Energy drinks", "Juice & smoothies"), 21.0, 0.28),
    MachineType("Combo", True, "ABCDEF", 6, ("Soft drinks", "Water", "Chocolate", "Crisps & nuts", "Biscuits & bars", "Candy"), 19.0, 0.2),
    MachineType("Coffee Bar", False, "AB", 6, ("Coffee & tea",), 34.0, 0.12),
    MachineType("Fresh Food Locker", True, "ABCD", 6, ("Sandwiches & salads", "Juice & smoothies", "Water", "Healthy snacks"), 11.0, 0.1),
)

# (name, price SEK, unit cost SEK, popularity)
CATALOG: dict[str, tuple[tuple[str, float, float, float], ...]] = {
    "Soft drinks": (
        ("Coca-Cola 33 cl", 22, 8.5, 3.0), ("Coca-Cola Zero 33 cl", 22, 8.5, 2.6), ("Coca-Cola 50 cl", 28, 11.0, 2.2),
        ("Pepsi Max 33 cl", 20, 7.5, 1.8), ("Fanta Orange 33 cl", 20, 7.5, 1.2), ("Sprite 33 cl", 20, 7.5, 1.0),
        ("Trocadero 33 cl", 20, 7.0, 0.9), ("Julmust 33 cl", 22, 8.0, 0.3), ("Zingo Orange 33 cl", 20, 7.0, 0.7),
        ("Festis Päron 33 cl", 18, 6.5, 0.6), ("Mountain Dew 33 cl", 20, 7.5, 0.5),
    ),
    "Water": (
        ("Loka Naturell 50 cl", 20, 6.5, 1.6), ("Loka Citron 50 cl", 20, 6.5, 1.4), ("Ramlösa 33 cl", 18, 5.5, 1.1),
        ("Spring water 50 cl", 16, 4.0, 1.8), ("Vitamin Well Reload 50 cl", 28, 12.0, 1.3),
    ),
    "Energy drinks": (
        ("Red Bull 25 cl", 28, 13.0, 1.9), ("Red Bull Sugarfree 25 cl", 28, 13.0, 1.0), ("Nocco BCAA Caribbean", 30, 14.0, 1.6),
        ("Monster Energy 50 cl", 30, 14.5, 1.3), ("Celsius Peach", 28, 13.0, 0.8),
    ),
    "Juice & smoothies": (
        ("Tropicana Orange 25 cl", 25, 11.0, 1.0), ("Froosh Mango & Orange", 35, 17.0, 0.9), ("God Morgon Apple 25 cl", 22, 9.0, 0.7),
        ("Innocent Strawberry Smoothie", 35, 17.5, 0.6),
    ),
    "Coffee & tea": (
        ("Espresso", 22, 3.5, 2.0), ("Cappuccino", 32, 5.5, 2.6), ("Caffè Latte", 34, 6.0, 2.4), ("Americano", 26, 3.8, 1.8),
        ("Hot chocolate", 28, 5.0, 1.0), ("Chai latte", 34, 6.5, 0.7), ("Green tea", 20, 2.5, 0.6), ("Black tea", 20, 2.5, 0.5),
    ),
    "Chocolate": (
        ("Marabou Mjölkchoklad 24 g", 15, 5.5, 1.8), ("Kexchoklad", 15, 5.0, 2.2), ("Snickers", 17, 6.0, 2.0), ("Twix", 17, 6.0, 1.5),
        ("Daim", 15, 5.5, 1.4), ("Kit Kat", 16, 5.5, 1.3), ("Bounty", 17, 6.0, 0.7), ("Plopp", 12, 4.0, 0.8),
        ("Mars", 16, 5.5, 0.9), ("Center rulle", 16, 5.5, 0.6),
    ),
    "Crisps & nuts": (
        ("OLW Cheez Doodles 40 g", 20, 7.0, 1.4), ("Estrella Grillchips 40 g", 20, 7.0, 1.5), ("Pringles Original 40 g", 22, 8.5, 1.2),
        ("Linkosuo Salted Peanuts", 18, 6.0, 0.8), ("Sourcream & onion chips 40 g", 20, 7.0, 1.1), ("Popchips Barbecue", 22, 9.0, 0.7),
    ),
    "Biscuits & bars": (
        ("Ballerina Original", 18, 6.5, 1.3), ("Brago", 16, 5.5, 0.7), ("Singoalla", 16, 5.5, 0.8), ("Oreo 4-pack", 15, 5.0, 1.0),
        ("Nature Valley Crunchy", 18, 7.0, 0.9), ("Gott & Blandat", 22, 8.0, 1.0),
    ),
    "Candy": (
        ("Ahlgrens bilar", 22, 8.0, 1.6), ("Haribo Goldbears", 20, 7.0, 1.1), ("Malaco Djungelvrål", 20, 7.0, 0.8),
        ("Bubs Skallar", 22, 8.5, 0.9), ("Polly", 24, 9.0, 0.7), ("Kick", 12, 4.0, 0.6),
    ),
    "Healthy snacks": (
        ("Barebells Caramel Cashew", 28, 13.0, 1.7), ("Barebells Cookies & Cream", 28, 13.0, 1.4), ("Mixed nuts 40 g", 25, 10.0, 0.9),
        ("Rice cakes dark chocolate", 18, 7.0, 0.6), ("Fruit bar apple", 18, 7.5, 0.5), ("Protein pudding", 25, 11.0, 0.8),
        ("Proteinshake chocolate", 32, 15.0, 0.9), ("Dried mango 40 g", 22, 9.0, 0.4),
    ),
    "Gum & mints": (("Extra Peppermint", 14, 4.0, 1.0), ("Stimorol Wild Cherry", 14, 4.0, 0.7), ("V6 Mint", 14, 4.0, 0.6)),
    "Sandwiches & salads": (
        ("Ham & cheese baguette", 49, 22.0, 1.6), ("Chicken pesto wrap", 59, 27.0, 1.4), ("Shrimp sandwich", 69, 34.0, 0.8),
        ("Halloumi salad", 79, 36.0, 0.9), ("Vegan falafel wrap", 59, 26.0, 1.0), ("Overnight oats", 39, 16.0, 0.9),
        ("Pasta salad chicken", 69, 31.0, 1.0), ("Cheese sandwich", 39, 15.0, 1.1),
    ),
}

PRODUCT_VARIANTS = ("Limited Edition", "Mini", "XL", "Family Pack", "Organic", "Summer Edition", "Sugar Free", "Duo")

DRIVER_NAMES = ("Johan Lindqvist", "Aisha Karimi", "Mikael Berg", "Sofia Nyström")

# --- playhub: a UK venue chain (Europe/London, GBP) --------------------------------------------------------


@dataclass(frozen=True)
class Venue:
    code: str
    name: str
    city: str
    region: str
    latitude: float
    longitude: float
    address: str
    resources: tuple[tuple[str, int], ...]  # (resource type, how many)


@dataclass(frozen=True)
class ResourceType:
    name: str
    label: str
    slot_minutes: int
    opens: int  # hour, local
    closes: int
    capacity: int
    price: float  # per slot, GBP, off-peak
    demand: float  # base booking probability of a slot at the busiest hour


PLAYHUB_VENUES: tuple[Venue, ...] = (
    Venue("PH-SHO", "PlayHub Shoreditch", "London", "Greater London", 51.526470, -0.078340, "2 Shoreditch High St", (("padel_court", 4), ("karaoke_room", 4))),
    Venue("PH-CLA", "PlayHub Clapham", "London", "Greater London", 51.461930, -0.138430, "45 Clapham High St", (("bowling_lane", 6), ("karaoke_room", 2))),
    Venue("PH-MAN", "PlayHub Manchester", "Manchester", "North West", 53.478130, -2.243690, "1 Spinningfields Sq", (("padel_court", 4), ("squash_court", 4))),
    Venue("PH-BHM", "PlayHub Birmingham", "Birmingham", "West Midlands", 52.477860, -1.897930, "Broad St 120", (("bowling_lane", 8),)),
    Venue("PH-LDS", "PlayHub Leeds", "Leeds", "Yorkshire and the Humber", 53.795980, -1.548960, "Wellington Pl 7", (("squash_court", 4), ("meeting_room", 4))),
)
RESOURCE_TYPES: dict[str, ResourceType] = {
    "padel_court": ResourceType("padel_court", "Padel court", 60, 7, 23, 4, 36.0, 0.85),
    "squash_court": ResourceType("squash_court", "Squash court", 45, 7, 22, 2, 14.0, 0.7),
    "bowling_lane": ResourceType("bowling_lane", "Bowling lane", 60, 10, 23, 6, 42.0, 0.8),
    "karaoke_room": ResourceType("karaoke_room", "Karaoke room", 120, 12, 23, 10, 60.0, 0.75),
    "meeting_room": ResourceType("meeting_room", "Meeting room", 60, 8, 20, 8, 25.0, 0.6),
}
# Relative booking demand by local hour (0..23) and ISO weekday (Mon..Sun) per resource type.
BOOKING_HOURS: dict[str, tuple[float, ...]] = {
    "leisure": (0, 0, 0, 0, 0, 0, 0, 0.35, 0.45, 0.35, 0.35, 0.4, 0.5, 0.45, 0.4, 0.45, 0.6, 0.85, 1.0, 1.0, 0.95, 0.8, 0.55, 0.3),
    "work": (0, 0, 0, 0, 0, 0, 0, 0, 0.4, 0.85, 1.0, 0.9, 0.6, 0.8, 0.95, 0.85, 0.6, 0.3, 0.1, 0.1, 0, 0, 0, 0),
}
BOOKING_WEEKDAYS: dict[str, tuple[float, ...]] = {
    "leisure": (0.65, 0.7, 0.75, 0.85, 1.0, 1.0, 0.9),
    "work": (1.0, 1.0, 1.0, 0.95, 0.7, 0.05, 0.02),
}
