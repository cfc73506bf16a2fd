-- wrk script of `npm run bench:http`: POST a small JSON body, as a caller of a Request trigger does.
wrk.method = "POST"
wrk.body = '{"name":"World"}'
wrk.headers["Content-Type"] = "application/json"
