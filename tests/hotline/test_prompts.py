"""Recorded prompts: audio known by its content (MP3, WAV, Ogg), at most 5 MB, kept under
the instance folder with a random name, served to Twilio without a log-in, and nothing
else served: no other name, no path tricks."""
from __future__ import annotations

import io
import wave

import pytest
from werkzeug.datastructures import FileStorage

from hotline import prompts

MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 413  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FRAME
OGG_VORBIS = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e" + b"\x01vorbis" + b"\x00" * 40
OGG_THEORA = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x2a" + b"\x80theora" + b"\x00" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def wav_bytes(seconds: float = 0.1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\x00\x00" * int(8000 * seconds))
    return out.getvalue()


def upload(data: bytes, filename: str = "提示音.mp3") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """The app's instance folder, in the test's own directory."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("data, kind", [(MP3_ID3, "mp3"), (MP3_FRAME, "mp3"), (wav_bytes(), "wav"),
                                        (OGG_VORBIS, "ogg"), (OGG_THEORA, None), (PNG, None),
                                        (b"<html>not audio</html>", None), (b"\xff\xff\xff\xff", None),
                                        (b"RIFF\x00\x00\x00\x00AVI LIST", None), (b"", None)])
def test_audio_is_known_by_its_content(data, kind):
    assert prompts.kind_of(data[:128]) == kind


def test_a_recording_is_kept_under_the_instance_folder_with_a_random_name(app, instance):
    name = prompts.save(upload(wav_bytes(), "../../etc/passwd.mp3"))  # the uploader's name counts for nothing
    assert prompts.valid(name) and name.endswith(".wav")
    kept = instance / "hotline" / "prompts" / name
    assert kept.read_bytes() == wav_bytes() and prompts.path(name) == kept
    assert prompts.content_type(name) == "audio/wav" and prompts.twilio_plays(name)
    other = prompts.save(upload(OGG_VORBIS, "a.ogg"))
    assert other != name and prompts.content_type(other) == "audio/ogg" and not prompts.twilio_plays(other)
    assert sorted(p.name for p in kept.parent.iterdir()) == sorted([name, other])  # no partial file left
    prompts.remove(other)
    with pytest.raises(LookupError):
        prompts.path(other)


@pytest.mark.parametrize("data, filename, message", [
    (PNG, "prompt.mp3", "This file is not a recording: upload an MP3 or WAV file (or Ogg)."),
    (b"", "empty.mp3", "The file is empty."),
    (MP3_FRAME + b"\x00" * prompts.MAX_BYTES, "long.mp3",
     "The recording is too large: 5 MB at most. Shorten it or save it as MP3."),
    (MP3_FRAME, "", "Choose a recording to upload."),
])
def test_what_is_not_a_recording_or_too_large_is_refused_and_not_kept(app, instance, data, filename, message):
    with pytest.raises(prompts.PromptRefused) as refused:
        prompts.save(upload(data, filename))
    assert str(refused.value) == message
    assert not (instance / "hotline" / "prompts").exists() or not any((instance / "hotline" / "prompts").iterdir())


@pytest.mark.parametrize("name", ["../config.py", "..", "", "A" * 32 + ".mp3", "a" * 31 + ".mp3", "a" * 32 + ".exe",
                                  "a" * 32 + ".mp3/../x", "a" * 32 + ".mp3\x00", "/etc/passwd"])
def test_only_our_names_are_paths(app, instance, name):
    with pytest.raises(LookupError):
        prompts.path(name)


def test_a_prompt_is_served_to_anyone_with_its_content_type(app, instance):
    name = prompts.save(upload(MP3_ID3))
    client = app.test_client()  # not logged in: Twilio fetches it
    response = client.get(f"/voice/prompts/{name}")
    assert response.status_code == 200 and response.mimetype == "audio/mpeg"
    assert response.get_data() == MP3_ID3
    assert client.get(f"/voice/prompts/{name}", headers={"Range": "bytes=0-2"}).get_data() == b"ID3"
    wav = prompts.save(upload(wav_bytes()))
    assert client.get(f"/voice/prompts/{wav}").mimetype == "audio/wav"


@pytest.mark.parametrize("path", ["/voice/prompts/" + "0" * 32 + ".mp3", "/voice/prompts/..%2F..%2Fwsgi.py",
                                  "/voice/prompts/../../wsgi.py", "/voice/prompts/%2e%2e", "/voice/prompts/wsgi.py",
                                  "/voice/prompts/" + "a" * 32 + ".txt"])
def test_anything_else_is_not_found(app, instance, path):
    (instance / "hotline" / "prompts").mkdir(parents=True)
    (instance / "hotline" / "prompts" / ("a" * 32 + ".txt")).write_text("secret")
    assert app.test_client().get(path).status_code == 404
