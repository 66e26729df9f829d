-- wrk: GET one small document (bench/http/README.md says how to seed it).
wrk.method = "GET"
wrk.path = "/bench/doc1"
