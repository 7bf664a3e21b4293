"""Effects outside the database (card refunds and voids, bank payouts), written as rows in
the transaction that causes them and delivered until the other side has answered."""
