"""Hub repos: finding a weights repo (Hub, cache, mirrors, pinned folders), fetching its files
(:mod:`.hub`, :mod:`.download`), naming one by reference (:mod:`.refs`), reading and checking a
Hub-repo folder (:mod:`.folder`, :mod:`.check`) and publishing one (:mod:`.publish`).

Importing the package imports none of its modules; ``zoo.hub``, ``zoo.refs``, ``zoo.download``,
``zoo.publish`` and ``zoo.repofolder`` are their former paths, kept as aliases.
"""
