from mockstripe.billing.invoice import InvoiceTotals, invoice_totals


def test_totals_of_lines_without_balance():
    assert invoice_totals([4, 12, 40_004]) == InvoiceTotals(
        subtotal=40_020,
        subtotal_excluding_tax=40_020,
        total=40_020,
        total_excluding_tax=40_020,
        starting_balance=0,
        amount_due=40_020,
        amount_paid=0,
        amount_remaining=40_020,
    )


def test_no_lines():
    totals = invoice_totals([])
    assert (totals.subtotal, totals.total, totals.amount_due, totals.amount_remaining) == (0, 0, 0, 0)


def test_credit_balance_reduces_amount_due():
    totals = invoice_totals([1_000], starting_balance=-300)
    assert (totals.total, totals.starting_balance, totals.amount_due, totals.amount_remaining) == (1_000, -300, 700, 700)


def test_credit_larger_than_total_leaves_nothing_due():
    totals = invoice_totals([1_000], starting_balance=-5_000)
    assert (totals.total, totals.amount_due, totals.amount_remaining) == (1_000, 0, 0)


def test_debit_balance_is_added():
    totals = invoice_totals([12], starting_balance=4)
    assert (totals.total, totals.amount_due) == (12, 16)


def test_as_fields_uses_stripe_names():
    assert invoice_totals([5], starting_balance=-2).as_fields() == {
        "subtotal": 5,
        "subtotal_excluding_tax": 5,
        "total": 5,
        "total_excluding_tax": 5,
        "starting_balance": -2,
        "amount_due": 3,
        "amount_paid": 0,
        "amount_remaining": 3,
    }


def test_a_line_s_own_discount_is_inside_the_subtotal_and_the_invoice_s_comes_off_it():
    # Lines of 10.00 and 30.00; 5.00 off the first line itself, 3.50 off the invoice; 10 % exclusive
    # tax (3.15) on what is left.
    totals = invoice_totals([1_000, 3_000], line_discounts=500, invoice_discounts=350, exclusive_tax=315)
    assert (totals.subtotal, totals.subtotal_excluding_tax, totals.total_excluding_tax, totals.total) == (
        3_500, 3_500, 3_150, 3_465,
    )
    assert totals.amount_due == 3_465
