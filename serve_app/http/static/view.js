// Which stream the page shows, and what it knows of that stream right now. Every module
// reads this one object, so a switch (main.js) changes what all of them follow at once.

// ?stream=<id> names the shown stream; without it the default stream's short URLs are
// used, as before there were many streams.
export const view = {
  param: new URLSearchParams(location.search).get("stream"),
  defaultId: null,      // from /api/status
  streams: [],          // the last GET /api/streams
  sourceState: null, detail: "", eventsDown: false, unreachable: false,
  pollError: "",        // the API's words when it refused the last poll
  delay: null,          // the shown stream's display delay (s), from its events or the list
  abort: new AbortController(),  // ends the shown stream's audio and asks on a switch
};

export const shownId = () => view.param || view.defaultId;
export const streamPath = (id) => `/api/streams/${encodeURIComponent(id)}`;
// One of the shown stream's feeds ("mjpeg", "events", "audio-stream").
export const shownStreamUrl = (kind) => view.param ? `${streamPath(view.param)}/${kind}` : `/api/${kind}`;
