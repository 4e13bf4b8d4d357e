"""Word lists for generated names, products and addresses."""

FIRST = ("Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Mia", "Lucas",
         "Amelia", "Mateo", "Isla", "Leo", "Aria", "Ethan", "Chloe", "Arjun", "Yuki", "Hana",
         "Priya", "Ravi", "Lena", "Jonas", "Clara", "Felix", "Grace", "Oscar", "Zara", "Omar",
         "Nina", "Hugo", "Maya", "Kai", "Ines", "Theo", "Sara", "Ivan", "Lea", "Sam")  # fmt: skip
LAST = ("Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Martin", "Lopez", "Wilson",
        "Taylor", "Thomas", "Moore", "Jackson", "Lee", "Walker", "Hall", "Young", "King",
        "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell",
        "Roberts", "Carter", "Phillips", "Evans", "Turner", "Patel", "Sharma", "Tanaka",
        "Sato", "Muller", "Schmidt", "Fischer", "Weber")  # fmt: skip
ADJECTIVES = ("Classic", "Organic", "Vintage", "Modern", "Cozy", "Rustic", "Sleek", "Bold",
              "Everyday", "Premium", "Handmade", "Lightweight", "Recycled", "Essential",
              "Artisan", "Urban", "Coastal", "Alpine", "Minimal", "Heritage")  # fmt: skip
NOUNS = ("T-Shirt", "Hoodie", "Mug", "Tote Bag", "Candle", "Notebook", "Backpack", "Beanie",
         "Water Bottle", "Sneakers", "Scarf", "Wallet", "Sunglasses", "Poster", "Socks",
         "Blanket", "Jacket", "Cap", "Planter", "Teapot")  # fmt: skip
PRODUCT_TYPES = ("Apparel", "Home", "Accessories", "Stationery", "Footwear", "Outdoor")
VENDORS = ("Northwind", "Acme Goods", "Blue Harbor", "Maple & Co", "Studio Nine", "Kestrel")
SIZES = ("S", "M", "L", "XL")
CUSTOM_ITEMS = ("Gift wrapping", "Custom engraving", "Personalised note", "Rush handling")
CANCEL_REASONS = ("customer", "fraud", "inventory", "declined", "other")
DISCOUNTS = (("WELCOME10", "percentage", 10), ("SPRING15", "percentage", 15),
             ("VIP20", "percentage", 20), ("SAVE5", "fixed_amount", 5))  # fmt: skip
STREETS = ("Main St", "Oak Ave", "High Street", "Station Road", "Park Lane", "Market Street")
# currency -> (country, country code, ((city, province, province code, zip), ...))
PLACES = {
    "USD": ("United States", "US", (("New York", "New York", "NY", "10001"),
                                    ("Austin", "Texas", "TX", "73301"),
                                    ("Seattle", "Washington", "WA", "98101"))),
    "EUR": ("Germany", "DE", (("Berlin", "Berlin", "BE", "10115"),
                              ("Munich", "Bavaria", "BY", "80331"))),
    "GBP": ("United Kingdom", "GB", (("London", "England", "ENG", "EC1A 1BB"),
                                     ("Leeds", "England", "ENG", "LS1 1UR"))),
    "INR": ("India", "IN", (("Mumbai", "Maharashtra", "MH", "400001"),
                            ("Bengaluru", "Karnataka", "KA", "560001"))),
    "JPY": ("Japan", "JP", (("Tokyo", "Tokyo", "JP-13", "100-0001"),
                            ("Osaka", "Osaka", "JP-27", "530-0001"))),
    "AUD": ("Australia", "AU", (("Sydney", "New South Wales", "NSW", "2000"),
                                ("Melbourne", "Victoria", "VIC", "3000"))),
    "CAD": ("Canada", "CA", (("Toronto", "Ontario", "ON", "M5H 2N2"),
                             ("Ottawa", "Ontario", "ON", "K1P 1J1"))),
}  # fmt: skip
