"""The measurement template's prose: the read-me and the notes, apart from the builders."""

from __future__ import annotations

INDICATOR_TEXT = {
    "income": "Income level",
    "education": "Education",
    "innovativeness": "Tries new things early",
    "opinion_leadership": "Opinion leader, persuades others",
    "brand_loyalty": "Brand consciousness / loyalty",
    "price_tolerance": "Price tolerance (5 = insensitive)",
}

#: The three steps: (sheet, what it does, formula).
STEPS = [
    ("Step 1 Classify", "Give each customer one of four types: Lighthouse, Follower, Rational, "
     "Profit-seeking.", "score = Σ weight × indicator; type by cut-offs (or by life-cycle stage)"),
    ("Step 2 Value", "Value each customer from the kinds of value its type provides, discounted over "
     "its retention time.", "LTV = Σ_t (PV+PPV+CV+KV+TV)_t (1+i)^-t + Iv, type-restricted"),
    ("Step 3 Equity", "Add up: equity per type, the composition (value kind × type) and the type "
     "structure, with charts.", "CE = Σ_types Σ_customers LTV"),
]

KINDS = [
    ("PV purchase value", "capacity × share of wallet × unit margin, per period"),
    ("PPV word of mouth", "influence × people reached × their average purchase (negative for complaints)"),
    ("CV contact information", "complaints, suggestions, requests in two-way contact, per period"),
    ("KV knowledge value", "assessed benefit of the customer's knowledge (Lighthouse only)"),
    ("TV transaction value", "partner-market income, split evenly over the customers who carry it"),
    ("Iv profile information", "one constant per customer, added once, not discounted"),
]

HOW = [
    "1. On Customers, paste your rows over the sample (values only: Home > Paste > Values), starting "
    "in the first row under the header, in the column order of row 2's descriptions. A column you do not "
    "have stays blank (it counts as 0). Delete leftover sample rows (select them > Delete Table Rows).",
    "2. On Assumptions, set the discount rate per period of your data, Iv, the classification method, "
    "weights, cut-offs and the transaction income.",
    "3. With the Customer Equity add-in loaded, Excel recalculates the CE_ cells. Press Refresh on the "
    "add-in's ribbon to also write Python's check table on Step 3.",
    "4. Read Step 3. Every green check should say OK.",
]

NOTES = [
    "Without the add-in, Excel shows the CE_ cells' saved values until it recalculates them (a changed input, "
    "Ctrl+Alt+F9): then they, and the cells that read them, show #NAME?; LibreOffice shows #NAME? at once. "
    "To share the numbers, send a copy made by Share as values (ribbon) or customer-equity freeze.",
    "Formulas use names, not addresses: ce_in_... are inputs (ce_in_periods = Customers[periods]), "
    "ce_weighted_score, ce_types, ce_pv_per_period, ce_ppv_per_period, ce_tv and ce_customer_ltv name the spill "
    "ranges of the CE_ formulas that compute them once (Steps 1 and 2), chk_... the native checks, "
    "ce_out_... what Python writes (unlocked, so that Refresh can write them). See Formulas > Name Manager.",
    "Per-customer columns on the step sheets are single formulas that spill; they grow and shrink with "
    "the table. Only the Customers sheet is unprotected, so the table can grow.",
    "Periods are the unit of your data (years here). The discount rate must be per period of that unit; "
    "end-of-period discounting matches Excel's NPV.",
    "Readings of the paper: Iv is the constant profile value, CV the ongoing contact value; a value kind "
    "a type does not provide is left out even if the table holds a number for it.",
]

STEP1_NOTE = ("The blue columns are one CE_ formula each, spilling one row per customer (the Type column's "
              "spill range is the name ce_types); the green ones recompute the same with Excel's own "
              "functions from the inputs.")
