"""A whole class on one JupyterHub: ``make hub``, ``make hub-stop``, ``make hub-remove-users``.

- :mod:`cnnlab.tools.hub.roster`       the class list (a CSV) and what a user name may be
- :mod:`cnnlab.tools.hub.accounts`     Unix users and the class group, their passwords
- :mod:`cnnlab.tools.hub.environment`  the hub's software, readable by every user
- :mod:`cnnlab.tools.hub.course`       nbgrader: the exchange, shared settings, the teacher's course
- :mod:`cnnlab.tools.hub.server`       JupyterHub's configuration, start and stop
- :mod:`cnnlab.tools.hub.client`       the hub's REST API and each user's server, for scripts and tests
- :mod:`cnnlab.tools.hub.cli`          ``python -m cnnlab.tools.hub start|stop|remove-users|status``
"""
