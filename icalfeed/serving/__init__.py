"""The serving shell around the web app: stored answers, admission, client identity, the
waitress connection rules and tarpit, big bodies, the access log, the graceful stop.
"""
