# xlwings Lite's main.py for a workbook that uses the Customer Equity functions,
# exactly as the README tells users to write it.
from customer_equity.excel.functions import *  # noqa: F401,F403
