"""What every page app shares: the rows, the secret key, the allowed host, the templates."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
SECRET_KEY = "bench-pages-secret-key-not-for-production-" + "k3Y9" * 8
ALLOWED_HOST = "127.0.0.1"

#: The 20 rows every page renders (built once, as a database query's result would be).
ROWS = [
    {
        "id": i,
        "name": f"Item {i}",
        "owner": f"user{i}@example.com",
        "price": f"{i * 1.25:.2f}",
        "in_stock": i % 3 != 0,
    }
    for i in range(1, 21)
]
