"""``arcnn serve``: restoration over HTTP, and a page to look at the result.

Light on purpose: the web framework (Starlette, on uvicorn; ``pip install 'arcnn[serve]'``) is
imported by :mod:`arcnn.serve.app` only.

    request -> limits (body size, queue)                  (app)
      -> query parameters -> RestoreOptions, format         (protocol.parse_query)
      -> a worker thread: Restorer.restore, encode_image    (queue.RestoreQueue)
      -> the image, with headers naming the models          (protocol.result_headers)
"""

from arcnn.serve.settings import ServeSettings

__all__ = ["ServeSettings"]
