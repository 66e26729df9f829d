-- wrk: POST new documents with generated ids (each request creates one; index entry included).
wrk.method = "POST"
wrk.path = "/benchpost"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"item","price":12.5,"tags":["a","b"],"stock":{"warehouse":3,"shop":1}}'
