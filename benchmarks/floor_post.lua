-- wrk: POST a body the size of a Stripe event (1.8 kB) to floor_handler.py.
wrk.method = "POST"
wrk.body = string.rep("x", 1800)
wrk.headers["Content-Type"] = "application/json"
