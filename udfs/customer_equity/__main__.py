"""``python -m customer_equity``: the ``customer-equity`` command."""

import sys

from customer_equity.cli import main

if __name__ == "__main__":
    sys.exit(main())
