"""Course tools, never any maths: the course map, the setup check, assignments, the website, execution.

- :mod:`cnnlab.tools.course`       the lesson list and parts (``cnnlab.course`` for short)
- :mod:`cnnlab.tools.doctor`       ``cnnlab.doctor()``: can the course run here?
- :mod:`cnnlab.tools.assignments`  ``python -m cnnlab.tools.assignments``: nbgrader student versions and grading
- :mod:`cnnlab.tools.site`         ``python -m cnnlab.tools.site build``: the lessons as a website
- :mod:`cnnlab.tools.execute`      ``python -m cnnlab.tools.execute``: run lessons and store their outputs
- :mod:`cnnlab.tools.hub`          ``make hub``: the whole class on one JupyterHub, with nbgrader's exchange
"""
