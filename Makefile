# The original lab's make targets, each a thin wrapper over a Deno task (deno.json), which picks
# the backend: Docker Compose when an engine answers, else local processes.
# Extra options go through ARGS, e.g. `make start-up ARGS="--backend local --ensemble"`.
DENO ?= deno
ARGS ?=

.PHONY: start-up log log-master1 log-master2 log-worker log-zookeeper rpc-call stop-master1 \
	stop-master2 start-master1 start-master2 stop-and-remove-all clean failover status dashboard test

start-up:
	$(DENO) task up $(ARGS)

log:
	$(DENO) task logs $(ARGS)

log-master1 log-master2 log-worker log-zookeeper:
	$(DENO) task logs $(@:log-%=%) $(ARGS)

rpc-call:
	$(DENO) task rpc $(ARGS)

stop-master1 stop-master2:
	$(DENO) task stop $(@:stop-%=%) $(ARGS)

start-master1 start-master2:
	$(DENO) task start $(@:start-%=%) $(ARGS)

stop-and-remove-all:
	$(DENO) task down $(ARGS)

clean:
	$(DENO) task clean $(ARGS)

failover:
	$(DENO) task failover $(ARGS)

status:
	$(DENO) task status $(ARGS)

# The live view in the browser, on http://127.0.0.1:8080 (ARGS="--port N" to move it).
dashboard:
	$(DENO) task dashboard $(ARGS)

test:
	$(DENO) task test $(ARGS)
