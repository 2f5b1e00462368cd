/*
 * restart(): the lin stand-in for the ESP32's restart (lin-restart.c).
 */
export default function restart() {
	native("xs_lin_restart").call(this);
}
