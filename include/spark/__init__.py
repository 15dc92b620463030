"""What the Spark jobs import (with include/settings.py and include/schemas.py): shipped to the executors."""
